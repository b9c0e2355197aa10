package main

import (
	"errors"
	"net"
	"strconv"
)

// splitEndpoint checks a HOST:PORT.
func splitEndpoint(endpoint string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(endpoint)
	if err != nil {
		return "", "", errors.New("want HOST:PORT")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", errors.New("want a port from 1 to 65535")
	}
	if host == "" {
		return "", "", errors.New("want a host before the port")
	}
	return host, port, nil
}
