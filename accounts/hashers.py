"""Argon2id with its cost from settings (ARGON2_TIME_COST, ARGON2_MEMORY_COST_KIB, ARGON2_PARALLELISM):
Django's own hasher has them as class attributes; a hash made with other parameters still checks, and
is upgraded at the next successful sign-in (Django's must_update)."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    @property
    def time_cost(self):
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self):
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self):
        return settings.ARGON2_PARALLELISM
