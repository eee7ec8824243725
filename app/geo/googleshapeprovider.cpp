#include "geo/googleshapeprovider.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <QUrlQuery>
#include <cmath>

namespace td::geo {

namespace {

// Google's error reasons (errors[0].reason) and what they mean for us.
struct ReasonRule {
    const char *reason;
    GeoError error;
};
constexpr ReasonRule kReasons[] = {
    {"notFound", GeoError::NotFound},
    {"dailyLimitExceeded", GeoError::QuotaExceeded},
    {"quotaExceeded", GeoError::QuotaExceeded},
    {"limitExceeded", GeoError::QuotaExceeded},
    {"userRateLimitExceeded", GeoError::RateLimited},
    {"rateLimitExceeded", GeoError::RateLimited},
    {"keyInvalid", GeoError::KeyInvalid},
    {"keyExpired", GeoError::KeyInvalid},
    {"accessNotConfigured", GeoError::KeyInvalid},
    {"forbidden", GeoError::KeyInvalid},
    {"parseError", GeoError::BadRequest},
    {"invalid", GeoError::BadRequest},
};

constexpr qint64 kMaxAnswer = 256 * 1024;

GeoError fromStatus(int status) {
    if (status == 404)
        return GeoError::NotFound;
    if (status == 401 || status == 403)
        return GeoError::KeyInvalid;
    if (status == 429)
        return GeoError::RateLimited;
    if (status >= 500)
        return GeoError::ServerError;
    return GeoError::BadRequest;
}

// A short printable excerpt of a non-JSON body (an HTML error page, a proxy message).
QString excerpt(const QByteArray &body) {
    QString s = QString::fromUtf8(body.left(160)).simplified();
    for (QChar &c : s)
        if (!c.isPrint())
            c = QLatin1Char('?');
    return s;
}

bool isGoogleHost(const QUrl &url) {
    const QString h = url.host().toLower();
    return h == QLatin1String("googleapis.com") || h.endsWith(QLatin1String(".googleapis.com"));
}

} // namespace

GoogleShapeProvider::GoogleShapeProvider(QNetworkAccessManager *nam, const WebProviderConfig &config)
    : m_nam(nam), m_config(config) {}

GoogleShapeProvider::~GoogleShapeProvider() {
    const auto inFlight = std::exchange(m_inFlight, {});
    for (auto it = inFlight.begin(); it != inFlight.end(); ++it) {
        QNetworkReply *r = it.key();
        QObject::disconnect(r, nullptr, nullptr, nullptr);
        delete it->timer;
        r->abort();
        r->deleteLater();
    }
}

bool GoogleShapeProvider::isGoogle() const { return isGoogleHost(m_config.url); }

QString GoogleShapeProvider::displayName() const {
    return isGoogleHost(m_config.url) ? QStringLiteral("Google Geolocation API")
                                      : QStringLiteral("Geolocation service at %1").arg(m_config.url.host());
}

QString GoogleShapeProvider::redact(const QString &text) const {
    QString out = text;
    const QString key = m_config.apiKey;
    if (key.isEmpty())
        return out;
    out.replace(key, QStringLiteral("***"));
    const QString enc = QString::fromLatin1(QUrl::toPercentEncoding(key));
    if (enc != key)
        out.replace(enc, QStringLiteral("***"), Qt::CaseInsensitive);
    return out;
}

QString GoogleShapeProvider::displayUrl() const {
    QUrl u = m_config.url;
    return redact(u.toDisplayString(QUrl::RemoveUserInfo));
}

bool GoogleShapeProvider::canResolve(const GeoQuery &query, QString *why) const {
    auto no = [why](const QString &w) {
        if (why)
            *why = w;
        return false;
    };
    const QUrl &u = m_config.url;
    if (!u.isValid() || u.host().isEmpty()
        || (u.scheme() != QLatin1String("https") && u.scheme() != QLatin1String("http")))
        return no(QStringLiteral("no valid geolocation URL is set"));
    if (isGoogleHost(u) && m_config.apiKey.isEmpty())
        return no(QStringLiteral("Google's geolocation API needs an API key (Settings > Geolocation, or GMAPS_API_KEY in .env)"));
    int cells = 0;
    for (const proto::CellTower &c : query.cells)
        cells += c.mcc > 0 && c.mcc < 1000 && c.lac >= 0 && c.cellId >= 0;
    const int aps = int(query.usableWifi().size());
    if (cells == 0 && aps < 2)
        return no(aps == 1 ? QStringLiteral("one Wi-Fi access point alone is not enough (the service needs two, or a cell)")
                           : QStringLiteral("no usable cell or Wi-Fi access point in the record"));
    return true;
}

QByteArray GoogleShapeProvider::requestBody(const GeoQuery &query, bool *wifiSent) {
    QJsonObject o;
    o.insert(QStringLiteral("considerIp"), false);
    const QList<proto::WifiAccessPoint> aps = query.usableWifi();
    // The services ignore fewer than two access points (privacy rule); send none then.
    if (aps.size() >= 2) {
        QJsonArray wa;
        for (const proto::WifiAccessPoint &w : aps) {
            QJsonObject a;
            a.insert(QStringLiteral("macAddress"), w.bssid);
            if (w.rssi < 0)
                a.insert(QStringLiteral("signalStrength"), w.rssi);
            wa.append(a);
        }
        o.insert(QStringLiteral("wifiAccessPoints"), wa);
    }
    if (wifiSent)
        *wifiSent = aps.size() >= 2;
    QJsonArray ca;
    QString firstRadio;
    for (const proto::CellTower &c : query.cells) {
        if (c.mcc <= 0 || c.mcc >= 1000 || c.lac < 0 || c.cellId < 0)
            continue;
        // GT06/Topin report 16-bit GSM cell ids; the 4G frames 28-bit E-UTRAN ids.
        const QString radio = c.cellId > 0xFFFF ? QStringLiteral("lte") : QStringLiteral("gsm");
        if (firstRadio.isEmpty())
            firstRadio = radio;
        QJsonObject t;
        t.insert(QStringLiteral("cellId"), double(c.cellId));
        t.insert(QStringLiteral("locationAreaCode"), double(c.lac));
        t.insert(QStringLiteral("mobileCountryCode"), c.mcc);
        t.insert(QStringLiteral("mobileNetworkCode"), c.mnc);
        t.insert(QStringLiteral("radioType"), radio);
        // Trackers send their own 0..255 levels; only a dBm value (negative) is meaningful here.
        if (c.signal < 0)
            t.insert(QStringLiteral("signalStrength"), c.signal);
        ca.append(t);
    }
    if (!ca.isEmpty()) {
        o.insert(QStringLiteral("radioType"), firstRadio);
        o.insert(QStringLiteral("cellTowers"), ca);
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

GeoResult GoogleShapeProvider::parseReply(int status, const QByteArray &body, bool wifiSent) {
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (status >= 200 && status < 300) {
        if (pe.error != QJsonParseError::NoError || !doc.isObject())
            return GeoResult::failure(GeoError::Malformed,
                                      body.trimmed().isEmpty()
                                          ? QStringLiteral("HTTP %1 with an empty answer").arg(status)
                                          : QStringLiteral("the answer is not JSON (%1 at byte %2): %3")
                                                .arg(pe.errorString()).arg(pe.offset).arg(excerpt(body)),
                                      status);
        const QJsonObject o = doc.object();
        const QJsonObject loc = o.value(QStringLiteral("location")).toObject();
        const QJsonValue lat = loc.value(QStringLiteral("lat"));
        const QJsonValue lng = loc.value(QStringLiteral("lng"));
        const QJsonValue acc = o.value(QStringLiteral("accuracy"));
        if (!lat.isDouble() || !lng.isDouble())
            return GeoResult::failure(GeoError::Malformed, QStringLiteral("the answer has no location.lat/location.lng numbers"), status);
        const double la = lat.toDouble(), lo = lng.toDouble();
        if (!std::isfinite(la) || !std::isfinite(lo) || std::fabs(la) > 90 || std::fabs(lo) > 180)
            return GeoResult::failure(GeoError::Malformed, QStringLiteral("the answer's coordinates are out of range (%1, %2)").arg(la).arg(lo), status);
        if (!acc.isDouble() || !std::isfinite(acc.toDouble()) || acc.toDouble() < 0)
            return GeoResult::failure(GeoError::Malformed, QStringLiteral("the answer has no valid accuracy"), status);
        GeoResult r;
        r.httpStatus = status;
        r.latitude = la;
        r.longitude = lo;
        r.accuracy = acc.toDouble();
        r.source = wifiSent ? proto::PositionSource::Wifi : proto::PositionSource::Lbs;
        return r;
    }
    QString reason, message;
    if (pe.error == QJsonParseError::NoError && doc.isObject()) {
        const QJsonObject err = doc.object().value(QStringLiteral("error")).toObject();
        message = err.value(QStringLiteral("message")).toString();
        const QJsonArray errors = err.value(QStringLiteral("errors")).toArray();
        if (!errors.isEmpty())
            reason = errors.first().toObject().value(QStringLiteral("reason")).toString();
        // google.rpc.Status form: {"error": {"status": "RESOURCE_EXHAUSTED", "details": [{"reason": ...}]}}
        if (reason.isEmpty()) {
            const QJsonArray details = err.value(QStringLiteral("details")).toArray();
            for (const QJsonValue &d : details)
                if (reason.isEmpty())
                    reason = d.toObject().value(QStringLiteral("reason")).toString();
        }
        if (reason.isEmpty() && err.value(QStringLiteral("status")).toString() == QLatin1String("RESOURCE_EXHAUSTED"))
            reason = QStringLiteral("quotaExceeded");
    } else if (!body.trimmed().isEmpty()) {
        message = excerpt(body);
    }
    GeoError e = GeoError::None;
    const QString lr = reason.toUpper();
    for (const ReasonRule &r : kReasons)
        if (reason == QLatin1String(r.reason) || lr == QString::fromLatin1(r.reason).toUpper())
            e = r.error;
    // API_KEY_INVALID / API_KEY_EXPIRED in the newer error form
    if (e == GeoError::None && lr.startsWith(QLatin1String("API_KEY")))
        e = GeoError::KeyInvalid;
    if (e == GeoError::None)
        e = fromStatus(status);
    QString text = QStringLiteral("HTTP %1").arg(status);
    if (!message.isEmpty())
        text += QStringLiteral(": ") + message;
    if (!reason.isEmpty())
        text += QStringLiteral(" (%1)").arg(reason);
    return GeoResult::failure(e, text, status);
}

void GoogleShapeProvider::resolve(const GeoQuery &query, Done done) {
    QString why;
    if (!canResolve(query, &why)) {
        done(GeoResult::failure(GeoError::NotConfigured, why));
        return;
    }
    QUrl url = m_config.url;
    if (!m_config.apiKey.isEmpty()) {
        QUrlQuery q(url);
        q.removeAllQueryItems(QStringLiteral("key"));
        q.addQueryItem(QStringLiteral("key"), QString::fromLatin1(QUrl::toPercentEncoding(m_config.apiKey)));
        url.setQuery(q);
    }
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    req.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("TrackerDesk/%1").arg(QLatin1String(TD_VERSION)));
    bool wifiSent = false;
    const QByteArray body = requestBody(query, &wifiSent);
    qCDebug(lcGeo).noquote() << "POST" << redact(url.toString(QUrl::FullyEncoded)) << body.size() << "bytes:" << QString::fromUtf8(body);
    QNetworkReply *reply = m_nam->post(req, body);
    InFlight f;
    f.done = std::move(done);
    f.wifiSent = wifiSent;
    f.timer = new QTimer;
    f.timer->setSingleShot(true);
    QObject::connect(f.timer, &QTimer::timeout, reply, [this, reply] {
        auto it = m_inFlight.find(reply);
        if (it == m_inFlight.end())
            return;
        it->timedOut = true;
        reply->abort();   // emits finished -> onFinished
    });
    f.timer->start(qMax(100, m_config.timeoutMs));
    m_inFlight.insert(reply, std::move(f));
    // A geolocation answer is a few hundred bytes: something else must not fill the memory.
    QObject::connect(reply, &QNetworkReply::downloadProgress, reply, [this, reply](qint64 received, qint64) {
        auto it = m_inFlight.find(reply);
        if (it != m_inFlight.end() && received > kMaxAnswer && !it->tooLarge) {
            it->tooLarge = true;
            reply->abort();
        }
    });
    QObject::connect(reply, &QNetworkReply::finished, reply, [this, reply] { onFinished(reply); });
}

void GoogleShapeProvider::onFinished(QNetworkReply *reply) {
    auto it = m_inFlight.find(reply);
    if (it == m_inFlight.end())
        return;
    InFlight f = std::move(it.value());
    m_inFlight.erase(it);
    delete f.timer;
    reply->deleteLater();
    GeoResult r;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (f.tooLarge) {
        r = GeoResult::failure(GeoError::Malformed, QStringLiteral("the answer is larger than %1 KiB: not a geolocation answer").arg(kMaxAnswer / 1024),
                               status);
    } else if (f.timedOut) {
        r = GeoResult::failure(GeoError::Timeout, QStringLiteral("no answer within %1 s").arg(m_config.timeoutMs / 1000.0, 0, 'g', 3));
    } else if (status == 0) {
        r = GeoResult::failure(GeoError::Network, redact(reply->errorString()));
    } else {
        r = parseReply(status, reply->readAll(), f.wifiSent);
        r.message = redact(r.message);
    }
    r.provider = id();
    qCDebug(lcGeo).noquote() << "answer" << status << (r.ok() ? QStringLiteral("ok") : geoErrorName(r.error)) << r.message;
    f.done(r);
}

} // namespace td::geo
