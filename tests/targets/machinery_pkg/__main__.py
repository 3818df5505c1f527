from machinery import work

work(3_000_000)
