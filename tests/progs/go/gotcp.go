// SPDX-License-Identifier: MIT
// gotcp.go - a Go TCP server and client for the ptrace back end's tests
// (Go makes its own system calls: the shim never sees them).
//
//	gotcp server [-p PORT] [-n CONNS]  listens on 127.0.0.1, prints
//	                                   "listen port=P pid=PID", serves CONNS
//	                                   connections ("ping\n" -> "pong\n"),
//	                                   closing each after the client's FIN
//	gotcp client -p PORT               connects, sends "ping\n", reads the
//	                                   answer, closes first
//
// A failed listen or dial prints "error ERR" and exits 1.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
)

func die(err error) {
	fmt.Printf("error %v\n", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gotcp server|client [-p PORT] [-n CONNS]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	port := fs.Int("p", 0, "port")
	conns := fs.Int("n", 1, "connections")
	fs.Parse(os.Args[2:])
	addr := fmt.Sprintf("127.0.0.1:%d", *port)

	switch os.Args[1] {
	case "server":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			die(err)
		}
		fmt.Printf("listen port=%d pid=%d\n", l.Addr().(*net.TCPAddr).Port, os.Getpid())
		os.Stdout.Sync()
		for i := 0; i < *conns; i++ {
			c, err := l.Accept()
			if err != nil {
				die(err)
			}
			buf := make([]byte, 5)
			if _, err := io.ReadFull(c, buf); err == nil {
				c.Write([]byte("pong\n"))
			}
			io.Copy(io.Discard, c) // until the client's FIN
			c.Close()
		}
		l.Close()
	case "client":
		c, err := net.Dial("tcp", addr)
		if err != nil {
			die(err)
		}
		c.Write([]byte("ping\n"))
		buf := make([]byte, 5)
		io.ReadFull(c, buf)
		fmt.Printf("connect local=%s\n", c.LocalAddr())
		c.Close()
	}
}
