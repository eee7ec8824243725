#include "models/devicelistmodel.h"


namespace td {

DeviceListModel::DeviceListModel(QObject *parent) : QAbstractTableModel(parent) {
    m_ageTimer.setInterval(30 * 1000);
    connect(&m_ageTimer, &QTimer::timeout, this, [this] {
        if (!m_rows.isEmpty())
            emit dataChanged(index(0, State), index(int(m_rows.size()) - 1, LastFix));
    });
    m_ageTimer.start();
}

void DeviceListModel::attach(TrackerService *service) {
    setDevices(service->devices());
    connect(service, &TrackerService::deviceAdded, this, &DeviceListModel::upsert);
    connect(service, &TrackerService::deviceUpdated, this, &DeviceListModel::upsert);
}

void DeviceListModel::setDevices(const QList<DeviceStatus> &devices) {
    beginResetModel();
    m_rows = devices;
    std::sort(m_rows.begin(), m_rows.end(), [](const DeviceStatus &a, const DeviceStatus &b) { return a.device.id < b.device.id; });
    endResetModel();
}

void DeviceListModel::upsert(const DeviceStatus &d) {
    const int row = rowOfDevice(d.device.id);
    if (row >= 0) {
        m_rows[row] = d;
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return;
    }
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
    m_rows.append(d);
    endInsertRows();
}

int DeviceListModel::rowOfDevice(qint64 id) const {
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows.at(i).device.id == id)
            return i;
    return -1;
}

QString DeviceListModel::labelFor(const QString &imei) const {
    for (const DeviceStatus &d : m_rows)
        if (d.device.imei == imei)
            return d.device.name.isEmpty() ? imei : d.device.name;
    return imei;
}

int DeviceListModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int DeviceListModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DeviceListModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Name");
    case Imei: return tr("IMEI / ID");
    case Protocol: return tr("Protocol");
    case State: return tr("State");
    case LastFix: return tr("Last fix");
    case Battery: return tr("Battery");
    case Signal: return tr("GSM");
    }
    return {};
}

QString DeviceListModel::colorFor(const store::Device &d) {
    if (!d.color.isEmpty())
        return d.color;
    static const char *palette[] = {"#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4",
                                    "#008080", "#f032e6", "#9a6324", "#800000", "#000075"};
    return QString::fromLatin1(palette[(d.id > 0 ? d.id - 1 : 0) % 10]);
}

QString DeviceListModel::ageText(const QDateTime &then, const QDateTime &now) {
    if (!then.isValid())
        return tr("never");
    const qint64 s = then.secsTo(now);
    if (s < -60)   // a device clock or time zone off: say so rather than "just now" for hours
        return tr("in the future (%1)").arg(then.toLocalTime().toString(QStringLiteral("dd.MM. HH:mm")));
    if (s < 60) return tr("just now");
    if (s < 3600) return tr("%1 min ago").arg(s / 60);
    if (s < 86400) return tr("%1 h ago").arg(s / 3600);
    return tr("%n day(s) ago", nullptr, int(s / 86400));
}

static QString batteryText(const std::optional<proto::Status> &s) {
    if (!s) return {};
    if (s->batteryPercent) return QStringLiteral("%1 %").arg(*s->batteryPercent);
    if (s->batteryVolts) return QStringLiteral("%1 V").arg(*s->batteryVolts, 0, 'f', 2);
    return {};
}

QVariant DeviceListModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const DeviceStatus &d = m_rows.at(index.row());
    const bool blocked = d.device.state == store::DeviceState::Blocked;
    const bool fresh = isNew(d.device);
    switch (role) {
    case Qt::DisplayRole:
    case Qt::EditRole:
        switch (index.column()) {
        case Name:
            if (role == Qt::EditRole) return d.device.name;
            // Unnamed devices told apart by their id (the map labels them by it too).
            return d.device.name.isEmpty() ? tr("New device %1").arg(d.device.imei) : d.device.name;
        case Imei: return d.device.imei;
        case Protocol: return d.device.model.isEmpty() ? d.device.protocol : QStringLiteral("%1 / %2").arg(d.device.protocol, d.device.model);
        case State:
            if (blocked) return tr("blocked");
            return d.online ? tr("online") : tr("offline (%1)").arg(ageText(d.lastSeen));
        case LastFix:
            if (!d.lastFix) return tr("no fix yet");
            return QStringLiteral("%1 (%2)").arg(d.lastFix->position.time.toLocalTime().toString(QStringLiteral("dd.MM. HH:mm")),
                                                  ageText(d.lastFix->position.time));
        case Battery: return batteryText(d.status);
        case Signal:
            if (d.status && d.status->gsmSignal) return QStringLiteral("%1").arg(*d.status->gsmSignal);
            return {};
        }
        break;
    case Qt::ToolTipRole:
        if (fresh) return tr("A device that connected on its own: name it (double-click), or block it from the context menu.");
        if (index.column() == LastFix && d.lastFix)
            return tr("%1, %2, source %3").arg(d.lastFix->position.time.toLocalTime().toString(Qt::ISODate))
                .arg(d.lastFix->position.valid ? tr("valid") : tr("not valid"), proto::positionSourceName(d.lastFix->position.source));
        if (index.column() == State && d.online) return tr("connected from %1").arg(d.peer);
        break;
    case DeviceIdRole: return d.device.id;
    case ImeiRole: return d.device.imei;
    case ColorRole: return colorFor(d.device);
    case OnlineRole: return d.online;
    case IsNewRole: return fresh;
    case BlockedRole: return blocked;
    case BatteryRole:
        if (d.status && d.status->batteryPercent) return *d.status->batteryPercent;
        return -1;
    case SignalRole:
        if (d.status && d.status->gsmSignal) return *d.status->gsmSignal;
        return -1;
    case LastFixTimeRole: return d.lastFix ? d.lastFix->position.time : QDateTime();
    }
    return {};
}

Qt::ItemFlags DeviceListModel::flags(const QModelIndex &index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.column() == Name)
        f |= Qt::ItemIsEditable;
    return f;
}

bool DeviceListModel::setData(const QModelIndex &index, const QVariant &value, int role) {
    if (!index.isValid() || index.column() != Name || role != Qt::EditRole)
        return false;
    store::Device d = m_rows[index.row()].device;
    const QString name = value.toString().trimmed();
    if (name == d.name || name.size() > store::kMaxDeviceNameLength)   // as the device dialog checks
        return false;
    d.name = name;
    m_rows[index.row()].device = d;
    emit dataChanged(index, index);
    emit deviceEdited(d);
    return true;
}

} // namespace td
