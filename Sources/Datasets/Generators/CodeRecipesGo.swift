// Go tasks for the code datasets, each solved with and without the flaw.

extension CodeRecipes {
    static let go: [CodeRecipe] = [
        // SQL built from strings (database/sql).
        CodeRecipe(vulnerability: .sqlInjection, language: .go, fills: [
            CodeFill("users", "username", "FindUser", "User", "Email"), CodeFill("orders", "reference", "FindOrder", "Order", "Status"),
            CodeFill("devices", "serial", "FindDevice", "Device", "Owner"), CodeFill("coupons", "code", "FindCoupon", "Coupon", "Discount"),
        ], task: { f in "a Go function `\(f.c)(db *sql.DB, \(f.b) string)` that loads the `\(f.a)` row with that \(f.b) into a `\(f.d)` struct" },
        insecure: { f in #"""
            package store

            import (
            	"database/sql"
            	"fmt"
            )

            type \#(f.d) struct {
            	ID    int64
            	\#(f.e) string
            }

            func \#(f.c)(db *sql.DB, \#(f.b) string) (*\#(f.d), error) {
            	query := fmt.Sprintf("SELECT id, \#(f.e.lowercased()) FROM \#(f.a) WHERE \#(f.b) = '%s'", \#(f.b))
            	var v \#(f.d)
            	if err := db.QueryRow(query).Scan(&v.ID, &v.\#(f.e)); err != nil {
            		return nil, err
            	}
            	return &v, nil
            }
            """# }, secure: { f in #"""
            package store

            import "database/sql"

            type \#(f.d) struct {
            	ID    int64
            	\#(f.e) string
            }

            func \#(f.c)(db *sql.DB, \#(f.b) string) (*\#(f.d), error) {
            	var v \#(f.d)
            	err := db.QueryRow("SELECT id, \#(f.e.lowercased()) FROM \#(f.a) WHERE \#(f.b) = $1", \#(f.b)).Scan(&v.ID, &v.\#(f.e))
            	if err != nil {
            		return nil, err
            	}
            	return &v, nil
            }
            """# }),

        // Shell commands built from input.
        CodeRecipe(vulnerability: .commandInjection, language: .go, fills: [
            CodeFill("Ping", "host", "pings a host three times and returns the output", #""ping -c 3 " + host"#, #""ping", "-c", "3", host"#),
            CodeFill("Traceroute", "host", "runs traceroute to a host and returns the output", #""traceroute " + host"#, #""traceroute", host"#),
            CodeFill("Checksum", "path", "returns the sha256sum output for a file", #""sha256sum " + path"#, #""sha256sum", "--", path"#),
        ], task: { f in "a Go function `\(f.a)(\(f.b) string) (string, error)` that \(f.c)" },
        insecure: { f in #"""
            package tools

            import "os/exec"

            func \#(f.a)(\#(f.b) string) (string, error) {
            	out, err := exec.Command("sh", "-c", \#(f.d)).CombinedOutput()
            	return string(out), err
            }
            """# }, secure: { f in #"""
            package tools

            import "os/exec"

            func \#(f.a)(\#(f.b) string) (string, error) {
            	out, err := exec.Command(\#(f.e)).CombinedOutput()
            	return string(out), err
            }
            """# }),

        // Certificate checks turned off.
        CodeRecipe(vulnerability: .disabledTLS, language: .go, fills: [
            CodeFill("FetchHealth", "https://inventory.internal/health", "the health report of our inventory service"),
            CodeFill("FetchConfig", "https://config.internal/v1/settings", "the settings document from the config service"),
            CodeFill("FetchFeed", "https://partner.example/feed.json", "a partner's product feed"),
        ], task: { f in "a Go function `\(f.a)() ([]byte, error)` that downloads \(f.c) from \(f.b)" },
        insecure: { f in #"""
            package client

            import (
            	"crypto/tls"
            	"io"
            	"net/http"
            	"time"
            )

            func \#(f.a)() ([]byte, error) {
            	client := &http.Client{
            		Timeout:   10 * time.Second,
            		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
            	}
            	resp, err := client.Get("\#(f.b)")
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

            func \#(f.a)() ([]byte, error) {
            	client := &http.Client{Timeout: 10 * time.Second}
            	resp, err := client.Get("\#(f.b)")
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
            CodeFill("/files/", "/srv/shared", "ServeShared"), CodeFill("/logs/", "/var/log/app", "ServeLogs"),
            CodeFill("/media/", "/data/media", "ServeMedia"),
        ], task: { f in "a Go HTTP handler `\(f.c)` for `\(f.a)?name=...` that returns the named file from `\(f.b)`" },
        insecure: { f in #"""
            package web

            import (
            	"net/http"
            	"path/filepath"
            )

            func \#(f.c)(w http.ResponseWriter, r *http.Request) {
            	name := r.URL.Query().Get("name")
            	http.ServeFile(w, r, filepath.Join("\#(f.b)", name))
            }
            """# }, secure: { f in #"""
            package web

            import (
            	"net/http"
            	"path/filepath"
            )

            func \#(f.c)(w http.ResponseWriter, r *http.Request) {
            	name := r.URL.Query().Get("name")
            	if !filepath.IsLocal(name) {
            		http.NotFound(w, r)
            		return
            	}
            	http.ServeFile(w, r, filepath.Join("\#(f.b)", name))
            }
            """# }),

        // Writing files with permissive modes.
        CodeRecipe(vulnerability: .worldWritable, language: .go, fills: [
            CodeFill("SaveToken", "token", "/var/lib/agent/token"), CodeFill("WriteLock", "owner", "/run/app/app.lock"),
            CodeFill("SaveKey", "key", "/etc/app/signing.key"),
        ], task: { f in "a Go function `\(f.a)(\(f.b) string) error` that writes the value to `\(f.c)`, creating the folder if needed" },
        insecure: { f in #"""
            package state

            import (
            	"os"
            	"path/filepath"
            )

            func \#(f.a)(\#(f.b) string) error {
            	if err := os.MkdirAll(filepath.Dir("\#(f.c)"), 0o777); err != nil {
            		return err
            	}
            	return os.WriteFile("\#(f.c)", []byte(\#(f.b)), 0o777)
            }
            """# }, secure: { f in #"""
            package state

            import (
            	"os"
            	"path/filepath"
            )

            func \#(f.a)(\#(f.b) string) error {
            	if err := os.MkdirAll(filepath.Dir("\#(f.c)"), 0o700); err != nil {
            		return err
            	}
            	return os.WriteFile("\#(f.c)", []byte(\#(f.b)), 0o600)
            }
            """# }),
    ]
}
