"""The one exception type for bad user input; entry points print it as a single line."""


class InputError(Exception):
    """Bad input from the user: the message names the input, the problem and the fix."""
