// A loopback HTTP server that plays a Google-shape geolocation service for the tests:
// POST /geolocate?key=... with the JSON request; answers by the current mode (valid answer,
// 404 notFound, 403 dailyLimitExceeded, 400 keyInvalid (echoing the request line, as a
// careless proxy would), 429, 503, a slow answer, malformed JSON, a 2 MiB answer). A script of modes is
// consumed one per request before falling back to the default mode. Every request is kept
// (path, query, parsed body) for the assertions. Listens on 127.0.0.1 only.
#pragma once

#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

namespace td::test {

class FakeGeoServer : public QObject {
    Q_OBJECT
public:
    enum Mode { Valid, NotFound, Quota, KeyInvalid, RateLimited, ServerError, Slow, Malformed, Huge };
    struct Request {
        QString path;
        QString key;              // the key query item
        QByteArray target;        // the request target as sent
        QJsonObject body;
        QByteArray rawBody;
    };

    explicit FakeGeoServer(QObject *parent = nullptr) : QObject(parent) {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onData(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    void close() { m_server.close(); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/v1/geolocate").arg(port())); }

    void setMode(Mode m) { m_mode = m; }
    void setScript(const QList<Mode> &modes) { m_script = modes; }
    void setAnswer(double lat, double lng, double accuracy) { m_lat = lat; m_lng = lng; m_accuracy = accuracy; }
    void setSlowDelayMs(int ms) { m_slowMs = ms; }
    const QList<Request> &requests() const { return m_requests; }
    int requestCount() const { return int(m_requests.size()); }

private:
    void onData(QTcpSocket *s) {
        QByteArray &buf = m_buffers[s];
        buf += s->readAll();
        const int end = buf.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buf.left(end);
        int length = 0;
        for (const QByteArray &line : head.split('\n')) {
            const QByteArray l = line.trimmed();
            if (l.toLower().startsWith("content-length:"))
                length = l.mid(15).trimmed().toInt();
        }
        if (buf.size() < end + 4 + length)
            return;
        const QByteArray body = buf.mid(end + 4, length);
        m_buffers.remove(s);
        const QList<QByteArray> req = head.split('\n').value(0).trimmed().split(' ');
        Request r;
        r.target = req.value(1);
        const QUrl u(QString::fromLatin1(r.target));
        r.path = u.path();
        r.key = QUrlQuery(u).queryItemValue(QStringLiteral("key"), QUrl::FullyDecoded);
        r.rawBody = body;
        r.body = QJsonDocument::fromJson(body).object();
        m_requests << r;
        const Mode mode = m_script.isEmpty() ? m_mode : m_script.takeFirst();
        answer(s, mode, r);
    }

    static QByteArray googleError(int code, const char *reason, const QByteArray &message) {
        return "{\"error\":{\"errors\":[{\"domain\":\"geolocation\",\"reason\":\"" + QByteArray(reason) + "\",\"message\":\""
               + message + "\"}],\"code\":" + QByteArray::number(code) + ",\"message\":\"" + message + "\"}}";
    }

    void reply(QTcpSocket *s, int status, const char *text, const QByteArray &body, const char *type = "application/json") {
        if (s->state() != QAbstractSocket::ConnectedState)
            return;
        s->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + text + "\r\nContent-Type: " + type
                 + "\r\nConnection: close\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        s->disconnectFromHost();
    }

    void answer(QTcpSocket *s, Mode mode, const Request &r) {
        switch (mode) {
        case Valid:
            reply(s, 200, "OK",
                  QJsonDocument(QJsonObject{{QStringLiteral("location"), QJsonObject{{QStringLiteral("lat"), m_lat}, {QStringLiteral("lng"), m_lng}}},
                                            {QStringLiteral("accuracy"), m_accuracy}})
                      .toJson(QJsonDocument::Compact));
            return;
        case NotFound: reply(s, 404, "Not Found", googleError(404, "notFound", "Not Found")); return;
        case Quota: reply(s, 403, "Forbidden", googleError(403, "dailyLimitExceeded", "Daily Limit Exceeded")); return;
        case KeyInvalid:
            reply(s, 400, "Bad Request", googleError(400, "keyInvalid", "Bad key in POST " + r.target));
            return;
        case RateLimited: reply(s, 429, "Too Many Requests", googleError(429, "userRateLimitExceeded", "slow down")); return;
        case ServerError: reply(s, 503, "Service Unavailable", "<html><body>upstream down</body></html>", "text/html"); return;
        case Malformed: reply(s, 200, "OK", "{\"location\": {\"lat\": 1.0, \"lng\": "); return;
        case Huge: reply(s, 200, "OK", "[" + QByteArray(2 * 1024 * 1024, ' ') + "]"); return;
        case Slow: {
            QPointer<QTcpSocket> ps(s);
            QTimer::singleShot(m_slowMs, this, [this, ps] {
                if (ps)
                    reply(ps, 200, "OK", "{\"location\":{\"lat\":1,\"lng\":2},\"accuracy\":3}");
            });
            return;
        }
        }
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QList<Request> m_requests;
    QList<Mode> m_script;
    Mode m_mode = Valid;
    double m_lat = 22.676746, m_lng = 113.940940, m_accuracy = 35;
    int m_slowMs = 5000;
};

} // namespace td::test
