#include "docks/smsdock.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSerialPortInfo>
#include <QStringListModel>
#include <QVBoxLayout>

namespace td::ui {

SmsPane::SmsPane(QWidget *parent) : QWidget(parent) {
    m_state = new QLabel(this);
    m_state->setWordWrap(true);
    const auto ports = QSerialPortInfo::availablePorts();
    m_state->setText(ports.isEmpty()
        ? tr("No GSM modem connected: no serial ports found.")
        : tr("No GSM modem connected. Serial ports seen: %1").arg([&] {
              QStringList n;
              for (const QSerialPortInfo &p : ports) n << p.portName();
              return n.join(QStringLiteral(", "));
          }()));
    m_conversation = new QListView(this);
    m_conversation->setModel(new QStringListModel(m_conversation));
    m_compose = new QLineEdit(this);
    m_compose->setPlaceholderText(tr("SMS text to the selected tracker"));
    m_send = new QPushButton(tr("Send"), this);
    m_compose->setEnabled(false);
    m_send->setEnabled(false);
    auto *row = new QHBoxLayout;
    row->addWidget(m_compose, 1);
    row->addWidget(m_send);
    auto *lay = new QVBoxLayout(this);
    lay->setContentsMargins(2, 2, 2, 2);
    lay->addWidget(m_state);
    lay->addWidget(m_conversation, 1);
    lay->addLayout(row);
}

} // namespace td::ui
