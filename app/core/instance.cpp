#include "core/instance.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLockFile>
#include <QTimer>

#include <memory>

namespace td {

namespace {

constexpr qsizetype kMaxRequest = 1024 * 1024;  // one request line, bytes
constexpr int kIdleTimeoutMs = 10000;           // a client that sends nothing is dropped
constexpr int kProbeTimeoutMs = 1000;           // "does the owner of this socket answer?"
constexpr int kStaleLockMs = 30000;             // a lock from another host older than this is stale
const QString kLockName = QStringLiteral("trackerdesk.lock");

// The data folder as one stable string: absolute, clean, symlinks resolved when it exists.
QString canonicalDir(const QString &dataDir) {
    const QFileInfo fi(dataDir.isEmpty() ? QDir::currentPath() : dataDir);
    QString path = fi.exists() ? fi.canonicalFilePath() : QString();
    if (path.isEmpty())
        path = QDir::cleanPath(fi.absoluteFilePath());
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
    path = path.toLower();  // case-insensitive file systems: one folder, one name
#endif
    return path;
}

QByteArray errorLine(const QString &error) {
    return QJsonDocument(QJsonObject{{QStringLiteral("ok"), false}, {QStringLiteral("error"), error}})
               .toJson(QJsonDocument::Compact) + '\n';
}

// The lock file that marks a data folder as owned, kept for the server's lifetime (a child
// of the QLocalServer, so released with it).
class LockHolder : public QObject {
public:
    LockHolder(std::unique_ptr<QLockFile> lock, QObject *parent) : QObject(parent), m_lock(std::move(lock)) {}

private:
    std::unique_ptr<QLockFile> m_lock;
};

using Handlers = QHash<QString, InstanceServer::Handler>;

// One request line -> its answer. "activate" is built in (onActivate), a handler may add to it.
QJsonObject handleRequest(const QByteArray &line, const Handlers &handlers, const std::function<void()> &onActivate) {
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
    auto error = [](const QString &e) { return QJsonObject{{QStringLiteral("ok"), false}, {QStringLiteral("error"), e}}; };
    if (pe.error != QJsonParseError::NoError)
        return error(QStringLiteral("request is not JSON: %1 at offset %2").arg(pe.errorString()).arg(pe.offset));
    if (!doc.isObject())
        return error(QStringLiteral("request is not a JSON object"));
    const QJsonObject request = doc.object();
    const QJsonValue command = request.value(QStringLiteral("command"));
    if (!command.isString() || command.toString().isEmpty())
        return error(QStringLiteral("request has no \"command\" string"));
    const QString name = command.toString();
    const auto it = handlers.constFind(name);
    if (name == QLatin1String("activate")) {
        onActivate();
        if (it == handlers.cend())
            return QJsonObject{{QStringLiteral("ok"), true}};
    }
    if (it == handlers.cend())
        return error(QStringLiteral("unknown command '%1'").arg(name));
    QJsonObject reply = (*it)(request);
    if (!reply.contains(QStringLiteral("ok")))
        reply.insert(QStringLiteral("ok"), !reply.contains(QStringLiteral("error")));
    return reply;
}

} // namespace

InstanceServer::InstanceServer(QObject *parent) : QObject(parent) {}

InstanceServer::~InstanceServer() {
    if (m_server)
        m_server->close();  // removes the socket file; the lock (a child) is released with it
}

QString InstanceServer::socketName(const QString &dataDir) {
    // Per user (home folder) and per data folder; a hash keeps it short for every platform
    // (Unix socket paths are limited to ~104 bytes, including the temp folder).
    const QByteArray key = QDir::homePath().toUtf8() + '\n' + canonicalDir(dataDir).toUtf8();
    return QStringLiteral("trackerdesk-")
        + QString::fromLatin1(QCryptographicHash::hash(key, QCryptographicHash::Sha256).toHex().left(20));
}

bool InstanceServer::listen(const QString &dataDir, QString *error) {
    auto fail = [&](const QString &e) {
        if (error)
            *error = e;
        return false;
    };
    if (m_server)
        return fail(QStringLiteral("this instance already listens as %1").arg(m_server->serverName()));
    const QString dir = QDir::cleanPath(QFileInfo(dataDir.isEmpty() ? QDir::currentPath() : dataDir).absoluteFilePath());
    QDir().mkpath(dir);  // the socket name is taken from the canonical (existing) folder
    const QString name = socketName(dir);
    const QString shown = QDir::toNativeSeparators(dir);

    // The lock file in the data folder decides who owns it. QLockFile writes our PID and host
    // name; a lock whose process is gone (a crash) is taken over at once. A lock written on
    // another host (a container restarted under a new host name, a shared folder) cannot be
    // checked that way and is taken over once it is kStaleLockMs old. A live owner on this
    // machine keeps its lock whatever its age: it holds a native lock (flock / exclusive open).
    auto lock = std::make_unique<QLockFile>(QDir(dir).filePath(kLockName));
    lock->setStaleLockTime(kStaleLockMs);
    bool locked = lock->tryLock(0);
    if (!locked && lock->error() == QLockFile::LockFailedError) {
        qint64 pid = 0;
        QString host, app;
        lock->getLockInfo(&pid, &host, &app);
        return fail(QStringLiteral("TrackerDesk is already running for %1 (process %2%3)")
                        .arg(shown).arg(pid).arg(host.isEmpty() ? QString() : QStringLiteral(" on ") + host));
    }
    // Not writable (read-only folder, ...): fall back to the socket alone below.
    if (!locked)
        lock.reset();

    auto *server = new QLocalServer(this);
    server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!server->listen(name)) {
        if (server->serverError() != QAbstractSocket::AddressInUseError && !locked) {
            const QString e = server->errorString();
            delete server;
            return fail(QStringLiteral("cannot create the local socket %1: %2").arg(name, e));
        }
        // The name is taken. With the lock held it is a leftover of a crashed owner; without
        // the lock, ask it: a live owner accepts the connection, a stale socket refuses it.
        if (!locked) {
            QLocalSocket probe;
            probe.connectToServer(name);
            if (probe.waitForConnected(kProbeTimeoutMs)) {
                delete server;
                return fail(QStringLiteral("TrackerDesk is already running for %1").arg(shown));
            }
        }
        QLocalServer::removeServer(name);
        if (!server->listen(name)) {
            const QString e = server->errorString();
            delete server;
            return fail(QStringLiteral("cannot create the local socket %1: %2").arg(name, e));
        }
    }
    m_server = server;
    if (lock)
        new LockHolder(std::move(lock), m_server);  // owned by (and released with) the server

    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket *s = m_server->nextPendingConnection()) {
            auto *idle = new QTimer(s);
            idle->setSingleShot(true);
            idle->start(kIdleTimeoutMs);
            connect(idle, &QTimer::timeout, s, &QLocalSocket::disconnectFromServer);
            connect(s, &QLocalSocket::disconnected, s, &QObject::deleteLater);
            connect(s, &QLocalSocket::readyRead, this, [this, s, idle] {
                idle->start(kIdleTimeoutMs);
                QByteArray buffer = s->property("td_buffer").toByteArray() + s->readAll();
                qsizetype nl;
                while ((nl = buffer.indexOf('\n')) >= 0) {
                    const QByteArray line = buffer.left(nl).trimmed();
                    buffer.remove(0, nl + 1);
                    if (line.size() > kMaxRequest) {
                        s->write(errorLine(QStringLiteral("request too large (over 1 MiB)")));
                        s->disconnectFromServer();
                        return;
                    }
                    if (!line.isEmpty()) {
                        const QJsonObject reply = handleRequest(line, m_handlers, [this] { emit activateRequested(); });
                        s->write(QJsonDocument(reply).toJson(QJsonDocument::Compact) + '\n');
                    }
                    if (s->state() != QLocalSocket::ConnectedState)
                        return;
                }
                if (buffer.size() > kMaxRequest) {
                    s->write(errorLine(QStringLiteral("request too large (over 1 MiB)")));
                    s->disconnectFromServer();
                    return;
                }
                s->setProperty("td_buffer", buffer);
            });
        }
    });
    return true;
}

void InstanceServer::setHandler(const QString &command, Handler handler) {
    if (handler)
        m_handlers.insert(command, std::move(handler));
    else
        m_handlers.remove(command);
}

std::optional<QJsonObject> sendToInstance(const QString &dataDir, const QJsonObject &request, int timeoutMs,
                                          QString *error) {
    auto fail = [&](const QString &e) -> std::optional<QJsonObject> {
        if (error)
            *error = e;
        return std::nullopt;
    };
    const QString shown = QDir::toNativeSeparators(QDir::cleanPath(QFileInfo(dataDir).absoluteFilePath()));
    const QDeadlineTimer deadline(qMax(1, timeoutMs));
    QLocalSocket socket;
    socket.connectToServer(InstanceServer::socketName(dataDir));
    if (!socket.waitForConnected(int(qMax<qint64>(1, deadline.remainingTime()))))
        return fail(QStringLiteral("no TrackerDesk instance is running for %1").arg(shown));
    socket.write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
    while (socket.bytesToWrite() > 0) {
        if (deadline.hasExpired() || !socket.waitForBytesWritten(int(qMax<qint64>(1, deadline.remainingTime()))))
            return fail(QStringLiteral("the TrackerDesk instance for %1 did not take the request: %2").arg(shown, socket.errorString()));
    }
    QByteArray buffer;
    while (!buffer.contains('\n')) {
        if (buffer.size() > kMaxRequest)
            return fail(QStringLiteral("the TrackerDesk instance for %1 sent an answer over 1 MiB").arg(shown));
        if (socket.bytesAvailable() > 0) {
            buffer += socket.readAll();
            continue;
        }
        if (deadline.hasExpired())
            return fail(QStringLiteral("the TrackerDesk instance for %1 did not answer within %2 ms").arg(shown).arg(timeoutMs));
        if (!socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))) {
            if (socket.state() != QLocalSocket::ConnectedState && socket.bytesAvailable() == 0)
                return fail(QStringLiteral("the TrackerDesk instance for %1 closed the connection without an answer").arg(shown));
        }
    }
    const QByteArray line = buffer.left(buffer.indexOf('\n'));
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return fail(QStringLiteral("the TrackerDesk instance for %1 sent an answer that is not a JSON object").arg(shown));
    socket.disconnectFromServer();
    return doc.object();
}

} // namespace td
