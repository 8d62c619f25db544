// SQLite's C library (Debian: libsqlite3-dev) for emlab guard's decision log. The guard's hook links it
// directly rather than through GRDB, which would bring Foundation in and slow the hook's start.
#include <sqlite3.h>

// sqlite3_db_config is variadic, which Swift cannot call: the two settings the log uses.
static inline int emlab_guard_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
static const void *emlab_guard_sqlite_transient(void) { return (const void *)-1; }
