// One running TrackerDesk per data folder owns the tracker port, the database writer and the
// modem. It listens on a local socket (QLocalServer) named after the data folder; a second
// GUI start asks it to show its window instead of fighting over the port, and the CLI hands
// it work that needs the owner (e.g. `trackerdesk sms send` when the modem is open there).
// Wire format: one JSON object per line each way ({"command": "...", ...} -> {"ok": bool,
// "error": "...", ...}); requests over 1 MiB or not JSON are answered with an error.
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <functional>
#include <optional>

class QLocalServer;

namespace td {

class InstanceServer : public QObject {
    Q_OBJECT
public:
    using Handler = std::function<QJsonObject(const QJsonObject &request)>;
    explicit InstanceServer(QObject *parent = nullptr);
    ~InstanceServer() override;

    // The socket name for a data folder (stable, per user, short enough for every platform).
    static QString socketName(const QString &dataDir);
    // Claims the data folder. False when another live instance owns it (*error says so) or
    // the socket cannot be created; a stale socket left by a crash is removed and reused.
    bool listen(const QString &dataDir, QString *error);
    // Handles {"command": command, ...}; "activate" is built in (emits activateRequested).
    void setHandler(const QString &command, Handler handler);

signals:
    void activateRequested();

private:
    QLocalServer *m_server = nullptr;
    QHash<QString, Handler> m_handlers;
};

// Sends one request to the instance owning dataDir and waits for its answer. nullopt with
// *error when none runs there or it does not answer within timeoutMs.
std::optional<QJsonObject> sendToInstance(const QString &dataDir, const QJsonObject &request, int timeoutMs,
                                          QString *error = nullptr);

} // namespace td
