// A loopback HTTP tile server for map tests. Serves 256x256 PNG tiles of one colour
// for GET /{z}/{x}/{y}.png and logs every request. It also acts as the application's
// HTTP proxy (QNetworkProxy::setApplicationProxy(server.proxy())): then every request
// the map makes, to any host, arrives here with its absolute URL, so a test can assert
// that tiles were fetched only from loopback and nothing went to the internet.
#pragma once

#include <QBuffer>
#include <QColor>
#include <QImage>
#include <QList>
#include <QNetworkProxy>
#include <QPainter>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

namespace td::test {

class TileServer : public QObject {
    Q_OBJECT
public:
    struct Request { QString host; QString path; bool viaProxy = false; bool servedTile = false; };

    // labelled = true: a light "paper map" tile with a grid and its z/x/y (screenshots);
    // false: one flat colour (tests measure it in grabbed images).
    explicit TileServer(QColor colour = QColor(0xff, 0x00, 0xff), QObject *parent = nullptr, bool labelled = false)
        : QObject(parent), m_colour(colour), m_labelled(labelled) {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onData(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    QString tileTemplate() const { return QStringLiteral("http://127.0.0.1:%1/{z}/{x}/{y}.png").arg(port()); }
    QNetworkProxy proxy() const { return QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), port()); }
    const QList<Request> &requests() const { return m_requests; }
    int tilesServed() const {
        int n = 0;
        for (const Request &r : m_requests) n += r.servedTile;
        return n;
    }
    // Requests whose target host was not a loopback address.
    QStringList nonLoopbackRequests() const {
        QStringList out;
        for (const Request &r : m_requests)
            if (!r.host.isEmpty() && r.host != QLatin1String("127.0.0.1") && r.host != QLatin1String("localhost"))
                out << r.host + r.path;
        return out;
    }

private:
    void onData(QTcpSocket *s) {
        QByteArray &buf = m_buffers[s];
        buf += s->readAll();
        int end;
        while ((end = buf.indexOf("\r\n\r\n")) >= 0) {
            const QByteArray head = buf.left(end);
            buf.remove(0, end + 4);
            handle(s, head);
        }
    }
    void handle(QTcpSocket *s, const QByteArray &head) {
        const QList<QByteArray> lines = head.split('\n');
        const QList<QByteArray> req = lines.value(0).trimmed().split(' ');
        Request r;
        QString target = QString::fromLatin1(req.value(1));
        if (target.startsWith(QLatin1String("http://")) || target.startsWith(QLatin1String("https://"))) {
            const QUrl u(target);
            r.viaProxy = true;
            r.host = u.host();
            r.path = u.path();
        } else {
            r.host = QStringLiteral("127.0.0.1");
            r.path = target;
        }
        if (req.value(0) == "CONNECT") {  // an https request through the proxy: never to loopback tiles
            r.host = target.section(QLatin1Char(':'), 0, 0);
            r.path = QString();
            m_requests << r;
            s->write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        static const QRegularExpression tileRe(QStringLiteral("^/(\\d+)/(\\d+)/(\\d+)\\.png$"));
        const bool loopback = r.host == QLatin1String("127.0.0.1") || r.host == QLatin1String("localhost");
        const QRegularExpressionMatch tm = tileRe.match(r.path);
        if (loopback && tm.hasMatch()) {
            r.servedTile = true;
            m_requests << r;
            const QByteArray png = m_labelled ? labelledTile(tm.captured(1), tm.captured(2), tm.captured(3)) : tile();
            s->write("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nCache-Control: no-store\r\nContent-Length: "
                     + QByteArray::number(png.size()) + "\r\n\r\n" + png);
            return;
        }
        m_requests << r;
        s->write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
    QByteArray tile() {
        if (m_png.isEmpty()) {
            QImage img(256, 256, QImage::Format_RGB32);
            img.fill(m_colour);
            QPainter p(&img);
            p.setPen(m_colour.darker(150));
            p.drawRect(0, 0, 255, 255);
            p.end();
            QBuffer b(&m_png);
            b.open(QIODevice::WriteOnly);
            img.save(&b, "PNG");
        }
        return m_png;
    }

    QByteArray labelledTile(const QString &z, const QString &x, const QString &y) {
        QImage img(256, 256, QImage::Format_RGB32);
        img.fill(m_colour);
        QPainter p(&img);
        p.setPen(QColor(0xd8, 0xd2, 0xc4));
        for (int i = 0; i < 256; i += 32) {
            p.drawLine(i, 0, i, 255);
            p.drawLine(0, i, 255, i);
        }
        p.setPen(QColor(0xb0, 0xa8, 0x98));
        p.drawRect(0, 0, 255, 255);
        p.drawText(QRect(0, 0, 256, 256), Qt::AlignCenter, QStringLiteral("offline test tile %1/%2/%3").arg(z, x, y));
        p.end();
        QByteArray out;
        QBuffer b(&out);
        b.open(QIODevice::WriteOnly);
        img.save(&b, "PNG");
        return out;
    }

    QTcpServer m_server;
    QColor m_colour;
    bool m_labelled = false;
    QByteArray m_png;
    QList<Request> m_requests;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

// Fraction of pixels in an image close to a colour.
inline double colourFraction(const QImage &image, QColor c, int tolerance = 24) {
    if (image.isNull()) return 0;
    const QImage img = image.convertToFormat(QImage::Format_RGB32);
    qint64 hit = 0;
    for (int y = 0; y < img.height(); ++y) {
        const QRgb *line = reinterpret_cast<const QRgb *>(img.constScanLine(y));
        for (int x = 0; x < img.width(); ++x)
            if (qAbs(qRed(line[x]) - c.red()) <= tolerance && qAbs(qGreen(line[x]) - c.green()) <= tolerance
                && qAbs(qBlue(line[x]) - c.blue()) <= tolerance)
                ++hit;
    }
    return double(hit) / (img.width() * img.height());
}

} // namespace td::test
