"""A small threaded service, mostly waiting, as a development web server
is: the main thread in socketserver's accept loop (select with a 0.5 s
timeout), a thread per request, four pool workers blocked on a queue, and
a client thread sending a request every 20 ms.  In wall mode every waiting
thread is sampled at every tick.

usage: service.py [SECONDS]  (default 10)"""
import queue
import socket
import socketserver
import sys
import threading
import time


def render(n):
    return "".join(str(i * i % 97) for i in range(n))


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        n = int(self.rfile.readline())
        self.wfile.write(render(n).encode()[:64] + b"\n")


def pool_worker(q):
    while q.get() is not None:
        pass


def client(port, stop):
    while not stop.is_set():
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"2000\n")
            s.makefile().readline()
        time.sleep(0.02)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    q = queue.Queue()
    pool = [threading.Thread(target=pool_worker, args=(q,), name="pool-%d" % i)
            for i in range(4)]
    for t in pool:
        t.start()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    c = threading.Thread(target=client, args=(server.server_address[1], stop),
                         name="client")
    c.start()
    def end():
        stop.set()
        c.join()
        server.shutdown()
    threading.Timer(seconds, end).start()
    server.serve_forever(poll_interval=0.5)
    for t in pool:
        q.put(None)
    for t in pool:
        t.join()
    server.server_close()


main()
