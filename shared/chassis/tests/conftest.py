import sys
from pathlib import Path

# The probe service (a tiny service used to exercise the chassis) is imported
# by the tests and run as a worker subprocess.
sys.path.insert(0, str(Path(__file__).parent))
