"""A service as a container runs it (0570-container.sh).

PID 1, exec'd by the entrypoint.  It starts its worker, another Python
process, through a shell (as services start their helpers), handles
requests until SIGTERM, then stops the worker and exits 0.  The output
does not depend on timing.
"""
import os
import signal
import subprocess
import sys

stopping = False


def on_term(signo, frame):
    global stopping
    stopping = True


def handle(request):
    total = 0
    for i in range(3000):
        total += (request * i) % 7
    return total


signal.signal(signal.SIGTERM, on_term)
here = os.path.dirname(os.path.abspath(__file__))
worker = subprocess.Popen(["/bin/sh", "-c", 'exec "$0" "$1"', sys.executable,
                           os.path.join(here, "service_worker.py")],
                          stdout=subprocess.PIPE, text=True)
print("service: up, worker", worker.stdout.readline().strip(), flush=True)
request = 0
while not stopping:
    request += 1
    handle(request)
worker.terminate()
status = worker.wait()
worker.stdout.close()
print("service: worker ended by signal", -status, flush=True)
print("service: stopped", flush=True)
