#include "sms/conversationmodel.h"

#include "sms/numbers.h"
#include "sms/smsservice.h"

#include <algorithm>

namespace td::sms {

ConversationModel::ConversationModel(QObject *parent) : QAbstractListModel(parent) {}

void ConversationModel::attach(SmsService *service) {
    if (m_service)
        m_service->disconnect(this);
    m_service = service;
    if (service) {
        connect(service, &SmsService::messageAdded, this, &ConversationModel::onAdded);
        connect(service, &SmsService::messageChanged, this, &ConversationModel::onChanged);
    }
    reload();
}

void ConversationModel::setConversation(qint64 deviceId, const QString &number) {
    m_deviceId = deviceId;
    m_number = deviceId > 0 ? QString() : normaliseNumber(number);
    reload();
}

void ConversationModel::reload() {
    beginResetModel();
    m_rows.clear();
    if (m_service && (m_deviceId > 0 || !m_number.isEmpty())) {
        MessageFilter f;
        f.limit = m_maxRows;
        if (m_deviceId > 0) {
            f.deviceId = m_deviceId;
        } else {
            f.deviceId = qint64(0);
            f.number = m_number;
        }
        m_rows = m_service->messages(f);
        std::reverse(m_rows.begin(), m_rows.end());
    }
    endResetModel();
}

bool ConversationModel::belongs(const Message &m) const {
    if (m_deviceId > 0)
        return m.deviceId == m_deviceId;
    return !m_number.isEmpty() && m.deviceId == 0 && numberMatch(m.number, m_number) > 0;
}

void ConversationModel::onAdded(const Message &m) {
    if (!belongs(m) || rowOfMessage(m.id) >= 0)
        return;
    if (m_rows.size() >= m_maxRows) {
        beginRemoveRows({}, 0, 0);
        m_rows.removeFirst();
        endRemoveRows();
    }
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
    m_rows.append(m);
    endInsertRows();
}

void ConversationModel::onChanged(const Message &m) {
    const int row = rowOfMessage(m.id);
    if (row < 0)
        return;
    m_rows[row] = m;
    emit dataChanged(index(row), index(row));
}

int ConversationModel::rowOfMessage(qint64 id) const {
    for (int i = int(m_rows.size()) - 1; i >= 0; --i)
        if (m_rows[i].id == id)
            return i;
    return -1;
}

QString ConversationModel::statusText(const Message &m) {
    QStringList parts;
    const QDateTime t = m.created.isValid() ? m.created : m.scts;
    const QDateTime local = t.toLocalTime();
    parts << (local.date() == QDate::currentDate() ? local.toString(QStringLiteral("HH:mm"))
                                                   : local.toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    parts << channelName(m.channel);
    parts << stateName(m.state);
    if (m.parts > 1)
        parts << QStringLiteral("%1 parts").arg(m.parts);
    if (m.positions > 0)
        parts << (m.positions == 1 ? QStringLiteral("1 position on the map") : QStringLiteral("%1 positions on the map").arg(m.positions));
    return parts.join(QStringLiteral(" · "));
}

int ConversationModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

QVariant ConversationModel::data(const QModelIndex &index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Message &m = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole: return m.text;
    case Qt::ToolTipRole: {
        QString tip = statusText(m);
        if (!m.number.isEmpty())
            tip += QStringLiteral("\n") + m.number;
        if (!m.error.isEmpty())
            tip += QStringLiteral("\n") + m.error;
        if (m.scts.isValid())
            tip += QStringLiteral("\nSMSC time %1").arg(m.scts.toString(Qt::ISODate));
        return tip;
    }
    case MessageRole: return QVariant::fromValue(m);
    case SentRole: return m.direction == Direction::Sent;
    case StateRole: return int(m.state);
    case ChannelRole: return int(m.channel);
    case TimeRole: return m.created;
    case PositionsRole: return m.positions;
    case ErrorRole: return m.error;
    case StatusTextRole: return statusText(m);
    default: return {};
    }
}

QHash<int, QByteArray> ConversationModel::roleNames() const {
    auto r = QAbstractListModel::roleNames();
    r.insert(SentRole, "sent");
    r.insert(StateRole, "state");
    r.insert(ChannelRole, "channel");
    r.insert(TimeRole, "time");
    r.insert(PositionsRole, "positions");
    r.insert(ErrorRole, "error");
    r.insert(StatusTextRole, "status");
    return r;
}

} // namespace td::sms
