// Go tasks for the code datasets, each solved with and without the flaw.

extension CodeRecipes {
    static let go: [CodeRecipe] = [
        // SQL built from strings (database/sql).
        CodeRecipe(vulnerability: .sqlInjection, language: .go, fills: [
            (table: "users", column: "username", function: "FindUser", structName: "User", field: "Email"),
            (table: "orders", column: "reference", function: "FindOrder", structName: "Order", field: "Status"),
            (table: "devices", column: "serial", function: "FindDevice", structName: "Device", field: "Owner"),
            (table: "coupons", column: "code", function: "FindCoupon", structName: "Coupon", field: "Discount"),
        ], task: { f in "a Go function `\(f.function)(db *sql.DB, \(f.column) string)` that loads the `\(f.table)` row with that \(f.column) into a `\(f.structName)` struct" },
        insecure: { f in #"""
            package store

            import (
            	"database/sql"
            	"fmt"
            )

            type \#(f.structName) struct {
            	ID    int64
            	\#(f.field) string
            }

            func \#(f.function)(db *sql.DB, \#(f.column) string) (*\#(f.structName), error) {
            	query := fmt.Sprintf("SELECT id, \#(f.field.lowercased()) FROM \#(f.table) WHERE \#(f.column) = '%s'", \#(f.column))
            	var v \#(f.structName)
            	if err := db.QueryRow(query).Scan(&v.ID, &v.\#(f.field)); err != nil {
            		return nil, err
            	}
            	return &v, nil
            }
            """# }, secure: { f in #"""
            package store

            import "database/sql"

            type \#(f.structName) struct {
            	ID    int64
            	\#(f.field) string
            }

            func \#(f.function)(db *sql.DB, \#(f.column) string) (*\#(f.structName), error) {
            	var v \#(f.structName)
            	err := db.QueryRow("SELECT id, \#(f.field.lowercased()) FROM \#(f.table) WHERE \#(f.column) = $1", \#(f.column)).Scan(&v.ID, &v.\#(f.field))
            	if err != nil {
            		return nil, err
            	}
            	return &v, nil
            }
            """# }),

        // Shell commands built from input.
        CodeRecipe(vulnerability: .commandInjection, language: .go, fills: [
            (function: "Ping", parameter: "host", purpose: "pings a host three times and returns the output",
             shellCommand: #""ping -c 3 " + host"#, arguments: #""ping", "-c", "3", host"#),
            (function: "Traceroute", parameter: "host", purpose: "runs traceroute to a host and returns the output",
             shellCommand: #""traceroute " + host"#, arguments: #""traceroute", host"#),
            (function: "Checksum", parameter: "path", purpose: "returns the sha256sum output for a file",
             shellCommand: #""sha256sum " + path"#, arguments: #""sha256sum", "--", path"#),
        ], task: { f in "a Go function `\(f.function)(\(f.parameter) string) (string, error)` that \(f.purpose)" },
        insecure: { f in #"""
            package tools

            import "os/exec"

            func \#(f.function)(\#(f.parameter) string) (string, error) {
            	out, err := exec.Command("sh", "-c", \#(f.shellCommand)).CombinedOutput()
            	return string(out), err
            }
            """# }, secure: { f in #"""
            package tools

            import "os/exec"

            func \#(f.function)(\#(f.parameter) string) (string, error) {
            	out, err := exec.Command(\#(f.arguments)).CombinedOutput()
            	return string(out), err
            }
            """# }),

        // Certificate checks turned off.
        CodeRecipe(vulnerability: .disabledTLS, language: .go, fills: [
            (function: "FetchHealth", url: "https://inventory.internal/health", resource: "the health report of our inventory service"),
            (function: "FetchConfig", url: "https://config.internal/v1/settings", resource: "the settings document from the config service"),
            (function: "FetchFeed", url: "https://partner.example/feed.json", resource: "a partner's product feed"),
        ], task: { f in "a Go function `\(f.function)() ([]byte, error)` that downloads \(f.resource) from \(f.url)" },
        insecure: { f in #"""
            package client

            import (
            	"crypto/tls"
            	"io"
            	"net/http"
            	"time"
            )

            func \#(f.function)() ([]byte, error) {
            	client := &http.Client{
            		Timeout:   10 * time.Second,
            		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
            	}
            	resp, err := client.Get("\#(f.url)")
            	if err != nil {
            		return nil, err
            	}
            	defer resp.Body.Close()
            	return io.ReadAll(resp.Body)
            }
            """# }, secure: { f in #"""
            package client

            import (
            	"fmt"
            	"io"
            	"net/http"
            	"time"
            )

            func \#(f.function)() ([]byte, error) {
            	client := &http.Client{Timeout: 10 * time.Second}
            	resp, err := client.Get("\#(f.url)")
            	if err != nil {
            		return nil, err
            	}
            	defer resp.Body.Close()
            	if resp.StatusCode != http.StatusOK {
            		return nil, fmt.Errorf("unexpected status %d", resp.StatusCode)
            	}
            	return io.ReadAll(resp.Body)
            }
            """# }),

        // Serving files by name.
        CodeRecipe(vulnerability: .pathTraversal, language: .go, fills: [
            (route: "/files/", folder: "/srv/shared", handler: "ServeShared"),
            (route: "/logs/", folder: "/var/log/app", handler: "ServeLogs"),
            (route: "/media/", folder: "/data/media", handler: "ServeMedia"),
        ], task: { f in "a Go HTTP handler `\(f.handler)` for `\(f.route)?name=...` that returns the named file from `\(f.folder)`" },
        insecure: { f in #"""
            package web

            import (
            	"net/http"
            	"path/filepath"
            )

            func \#(f.handler)(w http.ResponseWriter, r *http.Request) {
            	name := r.URL.Query().Get("name")
            	http.ServeFile(w, r, filepath.Join("\#(f.folder)", name))
            }
            """# }, secure: { f in #"""
            package web

            import (
            	"net/http"
            	"path/filepath"
            )

            func \#(f.handler)(w http.ResponseWriter, r *http.Request) {
            	name := r.URL.Query().Get("name")
            	if !filepath.IsLocal(name) {
            		http.NotFound(w, r)
            		return
            	}
            	http.ServeFile(w, r, filepath.Join("\#(f.folder)", name))
            }
            """# }),

        // Writing files with permissive modes.
        CodeRecipe(vulnerability: .worldWritable, language: .go, fills: [
            (function: "SaveToken", parameter: "token", path: "/var/lib/agent/token"),
            (function: "WriteLock", parameter: "owner", path: "/run/app/app.lock"),
            (function: "SaveKey", parameter: "key", path: "/etc/app/signing.key"),
        ], task: { f in "a Go function `\(f.function)(\(f.parameter) string) error` that writes the value to `\(f.path)`, creating the folder if needed" },
        insecure: { f in #"""
            package state

            import (
            	"os"
            	"path/filepath"
            )

            func \#(f.function)(\#(f.parameter) string) error {
            	if err := os.MkdirAll(filepath.Dir("\#(f.path)"), 0o777); err != nil {
            		return err
            	}
            	return os.WriteFile("\#(f.path)", []byte(\#(f.parameter)), 0o777)
            }
            """# }, secure: { f in #"""
            package state

            import (
            	"os"
            	"path/filepath"
            )

            func \#(f.function)(\#(f.parameter) string) error {
            	if err := os.MkdirAll(filepath.Dir("\#(f.path)"), 0o700); err != nil {
            		return err
            	}
            	return os.WriteFile("\#(f.path)", []byte(\#(f.parameter)), 0o600)
            }
            """# }),
    ]
}
