"""Argon2id with the parameters OWASP's Password Storage Cheat Sheet recommends (m = 19 MiB, t = 2, p = 1).

Django's defaults (m = 100 MiB, p = 8) assume many cores; a district server has two, and a morning of
enumerators logging in at once must not exhaust its memory. Hashes made with other parameters are upgraded
at the next successful login (Django's ``must_update``).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class CensusArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
