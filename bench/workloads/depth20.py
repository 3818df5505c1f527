"""Stacks about 20 frames deep whose leaf changes all the time: 18 levels
of recursion, then a loop calling three small functions."""
import sys


def a(x):
    return x * 3 % 7


def b(x):
    return a(x) + 1


def c(x):
    return str(x)


def level(n):
    if n == 0:
        s = 0
        for i in range(3_000_000):
            s += b(i) if i % 3 else len(c(i))
        return s
    return level(n - 1)


level(17)
