"""Thread churn: argv[1] threads created and joined in waves of 50, each
doing a little work, while the main thread works too."""
import sys
import threading


def work(n):
    x = 0
    for i in range(n):
        x += i
    return x


def main():
    total = int(sys.argv[1])
    done = 0
    while done < total:
        wave = [threading.Thread(target=work, args=(2000 + done % 7 * 1000,)) for _ in range(50)]
        for t in wave:
            t.start()
        work(5000)
        for t in wave:
            t.join()
        done += len(wave)
    print("churned", done)


main()
