// Device properties: name, model, SIM phone number, SMS password, time zone, colour,
// blocked. Validated before it is accepted.
#pragma once

#include "store/records.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace td::ui {

class DeviceDialog : public QDialog {
    Q_OBJECT
public:
    explicit DeviceDialog(const store::Device &device, QWidget *parent = nullptr);
    store::Device device() const;
    // Checks the fields; returns an empty string when fine.
    QString validate() const;
    void accept() override;

    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *phoneEdit() const { return m_phone; }
    QComboBox *timeZoneBox() const { return m_tz; }

private:
    store::Device m_device;
    QLineEdit *m_name, *m_model, *m_phone, *m_password, *m_color;
    QComboBox *m_tz;
    QCheckBox *m_blocked;
    QLabel *m_error;
};

} // namespace td::ui
