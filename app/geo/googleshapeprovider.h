// A service speaking the Google Geolocation API shape: Google itself
// (https://www.googleapis.com/geolocation/v1/geolocate?key=KEY) and the community services
// that copy it. POST JSON:
//   {"considerIp": false,
//    "wifiAccessPoints": [{"macAddress": "aa:bb:cc:dd:ee:ff", "signalStrength": -43}, ...],
//    "cellTowers": [{"cellId": 3873, "locationAreaCode": 10342, "mobileCountryCode": 460,
//                    "mobileNetworkCode": 0, "radioType": "gsm"}, ...]}
// answer {"location": {"lat": 22.6, "lng": 113.9}, "accuracy": 35.0}, or an error object
// {"error": {"code": 404, "message": "Not Found", "errors": [{"reason": "notFound"}]}}
// mapped to GeoError (404 notFound, 403 dailyLimitExceeded / keyInvalid, 429, 5xx, timeout,
// malformed JSON). The API key goes in the query string and is redacted from every text
// this class produces.
#pragma once

#include "geo/provider.h"

#include <QHash>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace td::geo {

struct WebProviderConfig {
    QUrl url;                         // the geolocate endpoint
    QString apiKey;                   // empty: none sent (community services)
    int timeoutMs = 10000;
};

class GoogleShapeProvider : public GeoProvider {
public:
    static QUrl googleUrl() { return QUrl(QStringLiteral("https://www.googleapis.com/geolocation/v1/geolocate")); }

    GoogleShapeProvider(QNetworkAccessManager *nam, const WebProviderConfig &config);
    ~GoogleShapeProvider() override;   // aborts what is in flight; no callback after that

    QString id() const override { return QStringLiteral("web"); }
    QString displayName() const override;
    // The service is Google's (it answers nothing without an API key).
    bool isGoogle() const;
    bool usesNetwork() const override { return true; }
    bool canResolve(const GeoQuery &query, QString *why) const override;
    void resolve(const GeoQuery &query, Done done) override;

    // The request body for a query (compact JSON). *wifiSent: Wi-Fi access points included.
    static QByteArray requestBody(const GeoQuery &query, bool *wifiSent = nullptr);
    // Classifies an HTTP answer (status 0: none). wifiSent decides the fix source.
    static GeoResult parseReply(int httpStatus, const QByteArray &body, bool wifiSent);
    // Replaces the key (plain and percent-encoded) by "***" in a text.
    QString redact(const QString &text) const;
    // The endpoint as safe to show: the key replaced by ***.
    QString displayUrl() const;

private:
    struct InFlight {
        Done done;
        QTimer *timer = nullptr;
        bool timedOut = false;
        bool tooLarge = false;
        bool wifiSent = false;
    };
    void onFinished(QNetworkReply *reply);

    QNetworkAccessManager *m_nam;
    WebProviderConfig m_config;
    QHash<QNetworkReply *, InFlight> m_inFlight;
};

} // namespace td::geo
