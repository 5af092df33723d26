// SPDX-License-Identifier: MIT
// stack_cxx.cc - a C++ call chain for the stack tests: a member function
// of a class in a namespace, and an overloaded function, each noinline,
// whose mangled names the formatters demangle.  Opens one TCP socket,
// closes it, and exits 0.
#include <sys/socket.h>
#include <unistd.h>

namespace net {

class Server {
public:
	__attribute__((noinline)) int open_socket(int type)
	{
		int fd = socket(AF_INET, type, 0);
		__asm__ volatile("" ::: "memory");
		return fd;
	}
};

__attribute__((noinline)) int make(Server &s, int type)
{
	int fd = s.open_socket(type);
	__asm__ volatile("" ::: "memory");
	return fd;
}

}  // namespace net

int main()
{
	net::Server s;
	int fd = net::make(s, SOCK_STREAM);

	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}
