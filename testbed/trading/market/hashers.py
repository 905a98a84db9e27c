from django.contrib.auth.hashers import PBKDF2PasswordHasher


class TestbedPBKDF2Hasher(PBKDF2PasswordHasher):
    """PBKDF2 with 20,000 iterations (a few CPU milliseconds): see settings."""

    algorithm = "pbkdf2_testbed"
    iterations = 20000
