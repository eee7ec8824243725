// The devices dock's model: every device with its name (editable), IMEI, protocol and
// model, online state, last fix time and age, battery and GSM signal, and the colour the
// map uses for it. Fed by TrackerService (deviceAdded/deviceUpdated); new (never named)
// devices stand out until the user names, accepts or blocks them.
#pragma once

#include "service/trackerservice.h"

#include <QAbstractTableModel>
#include <QTimer>

namespace td {

class DeviceListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Imei, Protocol, State, LastFix, Battery, Signal, ColumnCount };
    enum Role {
        DeviceIdRole = Qt::UserRole + 1, ImeiRole, ColorRole, OnlineRole, IsNewRole, BlockedRole,
        BatteryRole, SignalRole, LastFixTimeRole, SortRole
    };

    explicit DeviceListModel(QObject *parent = nullptr);

    // Takes the devices from the service and follows its signals.
    void attach(TrackerService *service);
    void setDevices(const QList<DeviceStatus> &devices);
    void upsert(const DeviceStatus &device);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;

    const DeviceStatus &deviceAt(int row) const { return m_rows.at(row); }
    int rowOfDevice(qint64 id) const;
    // "#rrggbb": the device's chosen colour, or a stable automatic one.
    static QString colorFor(const store::Device &d);
    // "just now", "3 min ago", "2 h ago", "5 days ago".
    static QString ageText(const QDateTime &then, const QDateTime &now = QDateTime::currentDateTimeUtc());
    static bool isNew(const store::Device &d) { return d.name.isEmpty() && d.state == store::DeviceState::Accepted; }
    QString labelFor(const QString &imei) const;  // name, or IMEI when unnamed

signals:
    // The user edited a device (name in place); the owner saves it through the service.
    void deviceEdited(const td::store::Device &device);

private:
    QList<DeviceStatus> m_rows;
    QTimer m_ageTimer;  // refreshes the "3 min ago" texts
};

} // namespace td
