// Devices dock: the device list (name editable in place, state, last fix and age,
// battery and GSM with icons) and the history controls (device, range, show on map).
#pragma once

#include "models/devicelistmodel.h"

#include <QWidget>

class QComboBox;
class QDateTimeEdit;
class QLabel;
class QListWidget;
class QGroupBox;
class QPushButton;
class QTreeView;

namespace td::ui {

class DevicesPane : public QWidget {
    Q_OBJECT
public:
    explicit DevicesPane(DeviceListModel *model, QWidget *parent = nullptr);
    QTreeView *view() const { return m_view; }
    qint64 currentDeviceId() const;
    void selectDevice(qint64 id);
    // The history range picked: today, last 24 h or custom.
    void historyRange(QDateTime *from, QDateTime *to) const;
    void showPresetRange();   // a preset's range into the (disabled) From/To fields
    void setHistoryInfo(const QString &text);
    void setHistoryRangeIndex(int index);   // 0 today, 1 last 24 h, 2 custom
    // A device the server refused (allowlist mode): listed until accepted or dismissed.
    void addRefused(const QString &imei, const QString &peer, const QString &reason);
    void removeRefused(const QString &imei);
    QListWidget *refusedList() const { return m_refused; }

signals:
    void showHistory(qint64 deviceId, const QDateTime &from, const QDateTime &to);
    void clearHistory();
    void followRequested(qint64 deviceId);
    void centerRequested(qint64 deviceId);
    void editRequested(qint64 deviceId);
    void blockRequested(qint64 deviceId, bool block);
    void acceptRequested(const QString &imei);

private:
    DeviceListModel *m_model;
    QTreeView *m_view;
    QComboBox *m_range;
    QDateTimeEdit *m_from, *m_to;
    QLabel *m_historyInfo;
    QGroupBox *m_refusedBox;
    QListWidget *m_refused;
};

} // namespace td::ui
