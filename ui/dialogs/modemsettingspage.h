// Settings > Modem: the GSM modem's serial port (the ports the system sees, with their
// descriptions, or typed), its speed and the SIM PIN (stored in a file readable only by the
// user, never in the settings file), and "Detect" that sends AT to the chosen port
// (ModemEngine::probe, off the GUI thread). Saving applies the modem to the running SMS
// service at once (modemChanged).
#pragma once

#include "core/settings.h"
#include "modem/modemengine.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QThread;

namespace td::ui {

class ModemSettingsPage : public QWidget {
    Q_OBJECT
public:
    explicit ModemSettingsPage(AppSettings &settings, QWidget *parent = nullptr);
    ~ModemSettingsPage() override;
    // The data folder that holds the PIN file (default: the settings' data folder).
    void setDataDir(const QString &dir);
    QString dataDir() const { return m_dataDir; }

    QString validate() const;        // empty when every field is acceptable
    // Writes the settings (and the PIN file); emits modemChanged when something changed.
    // Returns an error text, empty on success.
    QString save();
    modem::ModemConfig config() const;

    QComboBox *portBox() const { return m_port; }
    QComboBox *baudBox() const { return m_baud; }
    QLineEdit *pinEdit() const { return m_pin; }
    QPushButton *detectButton() const { return m_detect; }
    QLabel *detectLabel() const { return m_detectResult; }
    void detect();                   // what the Detect button does
    bool detecting() const { return m_probe != nullptr; }

signals:
    void modemChanged(const td::modem::ModemConfig &config);
    void detectFinished(bool ok, const QString &answer);

private:
    void load();
    QString portName() const;
    AppSettings &m_settings;
    QString m_dataDir;
    QComboBox *m_port, *m_baud;
    QLineEdit *m_pin;
    QPushButton *m_detect;
    QLabel *m_detectResult;
    QThread *m_probe = nullptr;
};

} // namespace td::ui
