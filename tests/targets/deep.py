"""Recursion argv[1] frames deep, spinning at the bottom, so every sample
has a known depth; each level's line is the recursive call's line."""
import sys


def down(n):
    if n == 0:
        x = 0
        for i in range(3000000):
            x += i
        return x
    return down(n - 1)  # the recursive call


sys.setrecursionlimit(int(sys.argv[1]) + 1000)
down(int(sys.argv[1]))
