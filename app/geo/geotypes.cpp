#include "geo/geotypes.h"

#include <QSet>
#include <algorithm>

namespace td::geo {

Q_LOGGING_CATEGORY(lcGeo, "trackerdesk.geo", QtInfoMsg)

namespace {

struct ErrorName {
    GeoError error;
    const char *name;
    bool retryable;
};

// One table: machine name (stored in geo_pending.error_kind) and retry policy.
constexpr ErrorName kErrors[] = {
    {GeoError::None, "", false},
    {GeoError::NotFound, "notFound", false},
    {GeoError::QuotaExceeded, "quotaExceeded", true},
    {GeoError::KeyInvalid, "keyInvalid", false},
    {GeoError::RateLimited, "rateLimited", true},
    {GeoError::ServerError, "serverError", true},
    {GeoError::Timeout, "timeout", true},
    {GeoError::Network, "network", true},
    {GeoError::Malformed, "malformed", true},
    {GeoError::BadRequest, "badRequest", false},
    {GeoError::NotConfigured, "notConfigured", false},
    {GeoError::BudgetExhausted, "budgetExhausted", true},
};

} // namespace

QString normaliseBssid(const QString &text) {
    QString hex;
    hex.reserve(12);
    for (QChar c : text) {
        if (c == QLatin1Char(':') || c == QLatin1Char('-') || c == QLatin1Char('.'))
            continue;
        const char l = char(c.toLower().unicode());
        if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f')))
            return {};
        hex += QLatin1Char(l);
    }
    if (hex.size() != 12 || hex == QLatin1String("000000000000") || hex == QLatin1String("ffffffffffff"))
        return {};
    QString out;
    for (int i = 0; i < 12; i += 2) {
        if (i)
            out += QLatin1Char(':');
        out += hex.mid(i, 2);
    }
    return out;
}

QString geoErrorName(GeoError e) {
    for (const ErrorName &n : kErrors)
        if (n.error == e)
            return QString::fromLatin1(n.name);
    return QStringLiteral("unknown");
}

GeoError geoErrorFromName(const QString &name) {
    for (const ErrorName &n : kErrors)
        if (name == QLatin1String(n.name))
            return n.error;
    return GeoError::None;
}

bool isRetryable(GeoError e) {
    for (const ErrorName &n : kErrors)
        if (n.error == e)
            return n.retryable;
    return false;
}

QList<proto::WifiAccessPoint> GeoQuery::usableWifi() const {
    QList<proto::WifiAccessPoint> out;
    QSet<QString> seen;
    for (const proto::WifiAccessPoint &w : wifi) {
        const QString b = normaliseBssid(w.bssid);
        if (b.isEmpty() || seen.contains(b))
            continue;
        seen.insert(b);
        proto::WifiAccessPoint ap = w;
        ap.bssid = b;
        out << ap;
    }
    return out;
}

QString GeoQuery::cacheKey() const {
    QStringList aps;
    for (const proto::WifiAccessPoint &w : usableWifi())
        aps << w.bssid;
    QStringList cs;
    for (const proto::CellTower &c : cells)
        cs << QStringLiteral("%1-%2-%3-%4").arg(c.mcc).arg(c.mnc).arg(c.lac).arg(c.cellId);
    std::sort(aps.begin(), aps.end());
    std::sort(cs.begin(), cs.end());
    aps.erase(std::unique(aps.begin(), aps.end()), aps.end());
    cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
    return QLatin1String("w:") + aps.join(QLatin1Char(',')) + QLatin1String("|c:") + cs.join(QLatin1Char(','));
}

GeoQuery GeoQuery::fromPosition(const proto::Position &p) {
    GeoQuery q;
    q.cells = p.cells;
    q.wifi = p.wifi;
    return q;
}

} // namespace td::geo
