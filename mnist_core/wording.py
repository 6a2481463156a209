"""Small pieces of English that several views share."""


def a_digit(digit: int) -> str:
    """The digit with its article, as it is read aloud: "an 8", "a 7"."""
    return f"{'an' if digit == 8 else 'a'} {digit}"
