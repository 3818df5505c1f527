// A C++ library for tests/integration/0500-native.sh: exceptions thrown
// and caught while the profiler unwinds the same stacks, and a thread that
// never runs Python.
#include <atomic>
#include <stdexcept>
#include <thread>

namespace native_work {

int spin(int n)
{
	int caught = 0;
	for (int i = 0; i < n; i++) {
		try {
			if (i % 2 == 0)
				throw std::runtime_error("even");
			volatile double d = 0;
			for (int k = 0; k < 300; k++)
				d = d + k * 0.5;
		} catch (const std::runtime_error &) {
			caught++;
		}
	}
	return caught;
}

static std::atomic<int> stop;

void burn_loop()
{
	volatile unsigned long x = 0;
	while (!stop.load())
		for (int i = 0; i < 100000; i++)
			x = x + i;
}

} // namespace native_work

extern "C" int work_spin(int n) { return native_work::spin(n); }

extern "C" void *work_thread_start(void)
{
	native_work::stop = 0;
	return new std::thread(native_work::burn_loop);
}

extern "C" void work_thread_stop(void *t)
{
	auto *th = static_cast<std::thread *>(t);
	native_work::stop = 1;
	th->join();
	delete th;
}
