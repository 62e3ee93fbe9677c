"""Errors of the identity service with their own stable ``code`` (API.md, "Conventions")."""

from clikopro_chassis.errors import Forbidden


class AccountSuspended(Forbidden):
    code = "account_suspended"
    title = "Account suspended"
