// Settings: server port/address, unknown devices (allowlist), idle timeout, map tile
// source and cache, data folder, raw-frame retention. Validated before saving; what can
// be applied live is applied at once (tiles, allowlist, retention), the rest is marked
// "after a restart".
#pragma once

#include "core/settings.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTabWidget;

namespace td::ui {

class GeoSettingsPage;
class ModemSettingsPage;

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(AppSettings &settings, QWidget *parent = nullptr);
    QString validate() const;       // empty when every field is acceptable
    // Writes the values; returns the settings that need a restart (for the message).
    QStringList save();
    void accept() override;

    QLineEdit *tileUrlEdit() const { return m_tileUrl; }
    QSpinBox *portBox() const { return m_port; }
    QLineEdit *listenEdit() const { return m_listen; }
    QCheckBox *acceptUnknownBox() const { return m_acceptUnknown; }
    QSpinBox *retentionDaysBox() const { return m_retentionDays; }
    QTabWidget *tabs() const { return m_tabs; }
    GeoSettingsPage *geoPage() const { return m_geoPage; }
    ModemSettingsPage *modemPage() const { return m_modemPage; }

signals:
    void tileSourceChanged(const td::TileSource &source);
    void acceptUnknownChanged(bool accept);
    void retentionChanged(int days, qint64 frames);
    void idleTimeoutChanged(int seconds);

private:
    AppSettings &m_settings;
    QSpinBox *m_port, *m_idle, *m_retentionDays, *m_retentionFrames;
    QLineEdit *m_listen, *m_tileUrl, *m_tileCache, *m_dataDir;
    QCheckBox *m_acceptUnknown;
    QLabel *m_error;
    QTabWidget *m_tabs;
    GeoSettingsPage *m_geoPage;
    ModemSettingsPage *m_modemPage;
};

} // namespace td::ui
