// Command orders-api serves the orders HTTP API. This is a stub for the example repository:
// enough for the smoke test's /health and /version checks.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
)

// version is set at build time: -ldflags "-X main.version=v1.4.2".
var version = "dev"

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"version": version})
	})
	mux.HandleFunc("GET /v1/orders", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]\n"))
	})

	addr := ":" + getenv("PORT", "8080")
	log.Printf("orders-api %s listening on %s", version, addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
