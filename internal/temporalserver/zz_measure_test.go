package temporalserver

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func rss() string {
	b, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

func TestMeasure(t *testing.T) {
	store := os.Getenv("M_STORE")
	if store == "" {
		t.Skip()
	}
	shards, _ := strconv.Atoi(os.Getenv("M_SHARDS"))
	opts := Options{
		Store: store, SQLitePath: os.Getenv("M_PATH"),
		PostgresHost: "127.0.0.1", PostgresPort: 55432, PostgresUser: envOr("M_USER", "postgres"), PostgresPassword: os.Getenv("M_PW"),
		DatabaseName: os.Getenv("M_DB"), VisibilityDatabaseName: os.Getenv("M_DB") + "_vis",
		Port: testPort(t), UIPort: testPort(t), Namespace: "default", IP: os.Getenv("M_IP"),
		SearchAttributes: testSearchAttributes, NumHistoryShards: int32(shards), Logger: testLogger(),
	}
	if os.Getenv("M_SCHEMA_ONLY") != "" {
		b := time.Now()
		if err := prepareStore(context.Background(), &opts, newServerLogger(testLogger())); err != nil {
			t.Fatal(err)
		}
		t.Logf("MEASURE prepareStore only: %s", time.Since(b).Round(time.Millisecond))
		return
	}
	b := time.Now()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(b)
	t.Logf("MEASURE store=%s shards=%d phase=%s start=%s rss_at_start=[%s] goroutines=%d", store, shards, os.Getenv("M_PHASE"), took.Round(time.Millisecond), rss(), runtime.NumGoroutine())
	time.Sleep(10 * time.Second)
	runtime.GC()
	t.Logf("MEASURE after 10s idle: rss=[%s] goroutines=%d", rss(), runtime.NumGoroutine())
	b = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURE stop=%s", time.Since(b).Round(time.Millisecond))
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}
