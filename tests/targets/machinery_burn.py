"""A module whose top level burns CPU: importing it is the work."""


def burn(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


burn(3_000_000)
