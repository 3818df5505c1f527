"""Python's machinery between a program and its code, for the test of what
reports hide by default (0215): `python machinery.py MODE [ZIP]`.

  import     load() imports machinery_burn, whose top level burns CPU, and
             load_zip() imports zipburn from the zip file ZIP
  threads    a thread running spin(), a Thread subclass whose run() spins,
             and a ThreadPoolExecutor worker; main() joins them (in wall
             mode the join is the main thread's waiting)
  processes  a child per start method (fork, spawn, forkserver), a spawn
             Pool's worker and a ProcessPoolExecutor's, each running its
             own spin_*()

Each target has a name of its own, so the test finds it under whatever
the report shows as its caller."""
import concurrent.futures
import multiprocessing
import sys
import threading


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def spin():
    work(2_000_000)


def spin_fork():
    work(1_500_000)


def spin_spawn():
    work(1_500_000)


def spin_forkserver():
    work(1_500_000)


def spin_pool(n):
    return work(n)


def spin_cf():
    return work(1_500_000)


def spin_executor():
    work(1_500_000)


class Spinner(threading.Thread):
    def run(self):
        work(1_500_000)


def load():
    import machinery_burn  # noqa: F401


def load_zip(path):
    sys.path.insert(0, path)
    import zipburn  # noqa: F401


def threads():
    t = threading.Thread(target=spin, name="spinner")
    s = Spinner(name="subclass")
    t.start()
    s.start()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pool") as ex:
        ex.submit(spin_executor).result()
    t.join()
    s.join()


def processes():
    for method, target in (("fork", spin_fork), ("spawn", spin_spawn),
                           ("forkserver", spin_forkserver)):
        p = multiprocessing.get_context(method).Process(target=target)
        p.start()
        p.join()
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(1) as pool:
        pool.map(spin_pool, [1_500_000])
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as ex:
        ex.submit(spin_cf).result()


def main():
    mode = sys.argv[1]
    if mode == "import":
        load()
        load_zip(sys.argv[2])
    elif mode == "threads":
        threads()
    elif mode == "processes":
        processes()


if __name__ == "__main__":
    main()
