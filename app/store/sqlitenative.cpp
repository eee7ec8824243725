#include "store/sqlitenative.h"

#include <QSqlDriver>
#include <QVariant>

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#include <cstring>
#endif

namespace td::store {

namespace {
constexpr int kSqliteOk = 0;
constexpr int kSqliteRow = 100;
constexpr int kSqliteDone = 101;

#if defined(__linux__)
// Path of the loaded Qt SQLite driver plugin, if any.
QByteArray loadedQtSqlitePlugin() {
    QByteArray found;
    dl_iterate_phdr([](dl_phdr_info *info, size_t, void *data) {
        if (info->dlpi_name && std::strstr(info->dlpi_name, "libqsqlite")) {
            *static_cast<QByteArray *>(data) = QByteArray(info->dlpi_name);
            return 1;
        }
        return 0;
    }, &found);
    return found;
}

const NativeApi *resolve() {
    static NativeApi api;
    static bool tried = false, ok = false;
    if (tried)
        return ok ? &api : nullptr;
    tried = true;
    void *lib = dlopen("libsqlite3.so.0", RTLD_LAZY | RTLD_NOLOAD);
    const QByteArray pluginPath = loadedQtSqlitePlugin();
    void *plugin = pluginPath.isEmpty() ? nullptr : dlopen(pluginPath.constData(), RTLD_LAZY | RTLD_NOLOAD);
    if (!lib || !plugin)
        return nullptr;
    // The same library only: the plugin's sqlite3_prepare_v2 must be the one we use.
    void *ours = dlsym(lib, "sqlite3_prepare_v2");
    void *theirs = dlsym(plugin, "sqlite3_prepare_v2");
    if (!ours || ours != theirs)
        return nullptr;
    auto get = [lib](auto &fn, const char *name) {
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
        return fn != nullptr;
    };
    ok = get(api.prepare_v2, "sqlite3_prepare_v2") && get(api.bind_int64, "sqlite3_bind_int64")
         && get(api.bind_double, "sqlite3_bind_double") && get(api.bind_text, "sqlite3_bind_text")
         && get(api.bind_blob, "sqlite3_bind_blob") && get(api.bind_null, "sqlite3_bind_null")
         && get(api.step, "sqlite3_step") && get(api.reset, "sqlite3_reset") && get(api.finalize, "sqlite3_finalize")
         && get(api.changes, "sqlite3_changes") && get(api.last_insert_rowid, "sqlite3_last_insert_rowid")
         && get(api.errmsg, "sqlite3_errmsg");
    return ok ? &api : nullptr;
}
#endif
} // namespace

const NativeApi *NativeApi::get(const QSqlDatabase &db, void **handle) {
#if defined(__linux__)
    if (!db.isOpen() || !db.driver())
        return nullptr;
    const QVariant h = db.driver()->handle();
    if (!h.isValid() || qstrcmp(h.typeName(), "sqlite3*") != 0)
        return nullptr;
    void *p = *static_cast<void *const *>(h.data());
    if (!p)
        return nullptr;
    const NativeApi *api = resolve();
    if (api && handle)
        *handle = p;
    return api;
#else
    Q_UNUSED(db);
    Q_UNUSED(handle);
    return nullptr;
#endif
}

NativeStatement::~NativeStatement() {
    if (m_stmt)
        m_api->finalize(m_stmt);
}

bool NativeStatement::prepare(const char *sql, QString *error) {
    if (m_api->prepare_v2(m_db, sql, -1, &m_stmt, nullptr) != kSqliteOk) {
        if (error)
            *error = QStringLiteral("cannot prepare '%1': %2").arg(QLatin1String(sql), QString::fromUtf8(m_api->errmsg(m_db)));
        m_stmt = nullptr;
        return false;
    }
    return true;
}

bool NativeStatement::exec(QString *error) {
    const int rc = m_api->step(m_stmt);
    if (rc == kSqliteDone || rc == kSqliteRow) {
        m_api->reset(m_stmt);
        return true;
    }
    if (error)
        *error = QString::fromUtf8(m_api->errmsg(m_db));
    m_api->reset(m_stmt);
    return false;
}

} // namespace td::store
