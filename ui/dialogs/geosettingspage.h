// Settings > Geolocation: the providers in order, the web service URL and its API key
// (masked; kept in the secret store, never in the settings file), the daily budget and
// limits, the offline database import with progress, and live counters (cache hits,
// requests today, pending records, last error) with a "Resolve pending now" button.
#pragma once

#include "core/settings.h"
#include "geo/geoconfig.h"
#include "geo/geotypes.h"

#include <QPointer>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace td::geo {
class GeoService;
struct ImportReport;
}

namespace td::ui {

class GeoSettingsPage : public QWidget {
    Q_OBJECT
public:
    explicit GeoSettingsPage(AppSettings &settings, QWidget *parent = nullptr);
    // The running geolocation (counters, import, resolve). Null: settings only.
    void setService(geo::GeoService *service);

    QString validate() const;   // empty when every field is acceptable
    // Writes the settings and the key, applies them to the running service. Returns an
    // error text (the key could not be stored), empty on success.
    QString save();

    QString dataDir() const;
    QListWidget *providerList() const { return m_providers; }
    QLineEdit *urlEdit() const { return m_url; }
    QLineEdit *keyEdit() const { return m_key; }
    QSpinBox *budgetBox() const { return m_budget; }
    QPushButton *importButton() const { return m_import; }
    QPushButton *resolveButton() const { return m_resolve; }
    QLabel *countersLabel() const { return m_counters; }
    QLabel *importLabel() const { return m_importStatus; }
    QProgressBar *importProgress() const { return m_progress; }
    // Starts importing a file (the Import button asks for it).
    bool startImport(const QString &path, QString *error = nullptr);

private:
    void load();
    void moveProvider(int delta);
    void showStats(const geo::GeoStats &s);
    void onImportFinished(const geo::ImportReport &report);

    AppSettings &m_settings;
    QPointer<geo::GeoService> m_service;
    geo::GeoConfig m_loaded;
    bool m_keyCleared = false;
    QCheckBox *m_enabled, *m_reply, *m_clearKey;
    QListWidget *m_providers;
    QLineEdit *m_url, *m_key;
    QLabel *m_urlOrigin, *m_keyOrigin;
    QSpinBox *m_budget, *m_interval, *m_timeout, *m_cacheTtl, *m_retryBase, *m_attempts;
    QPushButton *m_import, *m_cancelImport, *m_resolve;
    QProgressBar *m_progress;
    QLabel *m_importStatus, *m_counters;
};

} // namespace td::ui
