"""Ends the way argv[1] says, after some CPU work and output on both
streams, so a test can compare profiled and unprofiled runs."""
import os
import signal
import sys
import threading


def work():
    x = 0
    for i in range(300000):
        x += i % 7
    return x


def main():
    how = sys.argv[1]
    print("out: start", flush=True)
    sys.stderr.write("err: start\n")
    if how != "fork":
        # (3.12+ warns about fork() while another OS thread still exists,
        # and a joined thread may not have finished exiting yet.)
        t = threading.Thread(target=work)
        t.start()
        t.join()
    work()
    if how == "daemon":
        threading.Thread(target=lambda: [work() for _ in range(100)], daemon=True).start()
        print("out: leaving a daemon thread running")
        return
    if how == "exit":
        print("out: normal exit")
        return
    if how == "sys.exit":
        sys.exit(3)
    if how == "os._exit":
        sys.stdout.flush()
        os._exit(4)
    if how == "raise":
        raise RuntimeError("uncaught")
    if how == "sigterm":
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
    if how == "sigkill":
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "fork":
        pid = os.fork()
        if pid == 0:
            work()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("out: child status", status)
        return
    if how == "exec":
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-c", "print('out: after exec')"])
    if how == "exec-sh":
        sys.stdout.flush()
        os.execv("/bin/sh", ["/bin/sh", "-c", "echo out: sh after exec"])
    if how == "subprocess":
        import subprocess
        subprocess.run(["/bin/true"], check=True)
        print("out: ran a subprocess")
        return
    raise SystemExit("unknown ending " + how)


if __name__ == "__main__":
    main()
