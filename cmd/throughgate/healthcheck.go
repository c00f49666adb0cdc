package main

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// runHealthcheck is `throughgate healthcheck URL`: it asks URL (a process's
// /healthz) and exits 0 on a 2xx answer, 1 otherwise. The production image
// has no shell, curl or wget, so container health checks run the binary
// itself (deploy/compose.yaml).
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: throughgate healthcheck URL")
		return 2
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "throughgate healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(stderr, "throughgate healthcheck: %s answered %s\n", args[0], resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s\n", args[0], resp.Status)
	return 0
}
