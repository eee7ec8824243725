#include "docks/inspectordock.h"

#include "widgets/framedetail.h"

#include "trackerdesk/protocol/protocol.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace td::ui {

InspectorPane::InspectorPane(QWidget *parent) : QWidget(parent) {
    m_model = new FrameListModel(this);
    m_filter = new FrameFilterProxy(this);
    m_filter->setSourceModel(m_model);

    // ---- filter bar ----
    m_deviceFilter = new QComboBox(this);
    m_deviceFilter->setEditable(true);
    m_deviceFilter->setObjectName(QStringLiteral("deviceFilter"));
    m_deviceFilter->addItem(QString());
    m_deviceFilter->lineEdit()->setPlaceholderText(tr("any device"));
    m_deviceFilter->setMinimumContentsLength(12);
    m_protocolFilter = new QComboBox(this);
    m_protocolFilter->addItem(tr("any protocol"), QString());
    for (const proto::Protocol *p : proto::protocols())
        m_protocolFilter->addItem(p->displayName(), p->id());
    m_directionFilter = new QComboBox(this);
    m_directionFilter->addItem(tr("in + out"), -1);
    m_directionFilter->addItem(tr("in"), 0);
    m_directionFilter->addItem(tr("out"), 1);
    m_typeFilter = new QLineEdit(this);
    m_typeFilter->setPlaceholderText(tr("type (0x12)"));
    m_typeFilter->setMaximumWidth(90);
    m_textFilter = new QLineEdit(this);
    m_textFilter->setObjectName(QStringLiteral("textFilter"));
    m_textFilter->setPlaceholderText(tr("search summary, peer, hex…"));
    m_textFilter->setClearButtonEnabled(true);
    m_warningsOnly = new QCheckBox(tr("⚠ only"), this);
    m_historyRange = new QComboBox(this);
    m_historyRange->setObjectName(QStringLiteral("frameHistoryRange"));
    m_historyRange->addItem(tr("History…"), 0);
    m_historyRange->addItem(tr("last hour"), 1);
    m_historyRange->addItem(tr("today"), 24);
    m_historyRange->addItem(tr("last 7 days"), 24 * 7);
    m_historyRange->setToolTip(tr("Load stored frames of a time range (raw frames are kept in the database)"));

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_deviceFilter);
    filters->addWidget(m_protocolFilter);
    filters->addWidget(m_directionFilter);
    filters->addWidget(m_typeFilter);
    filters->addWidget(m_textFilter, 1);
    filters->addWidget(m_warningsOnly);
    filters->addWidget(m_historyRange);

    connect(m_deviceFilter, &QComboBox::currentTextChanged, m_filter, &FrameFilterProxy::setDeviceFilter);
    connect(m_protocolFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setProtocolFilter(m_protocolFilter->currentData().toString()); });
    connect(m_directionFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setDirectionFilter(m_directionFilter->currentData().toInt()); });
    connect(m_typeFilter, &QLineEdit::textChanged, this, [this](const QString &t) {
        bool ok = false;
        const QString s = t.trimmed();
        const int v = s.startsWith(QLatin1String("0x"), Qt::CaseInsensitive) ? s.mid(2).toInt(&ok, 16) : s.toInt(&ok, 16);
        m_filter->setTypeFilter(ok ? v : -1);
        m_typeFilter->setStyleSheet(s.isEmpty() || ok ? QString() : QStringLiteral("color:#b03000"));
    });
    connect(m_textFilter, &QLineEdit::textChanged, m_filter, &FrameFilterProxy::setTextFilter);
    connect(m_warningsOnly, &QCheckBox::toggled, m_filter, &FrameFilterProxy::setWarningsOnly);
    connect(m_historyRange, &QComboBox::activated, this, [this](int i) {
        const int hours = m_historyRange->itemData(i).toInt();
        m_historyRange->setCurrentIndex(0);
        if (hours <= 0)
            return;
        const QDateTime to = QDateTime::currentDateTimeUtc();
        const QDateTime from = hours == 24 ? QDateTime(QDate::currentDate(), QTime(0, 0)).toUTC() : to.addSecs(-3600LL * hours);
        setAutoscrollPaused(true);
        emit historyRequested(from, to);
    });

    // ---- frame list ----
    m_list = new QTableView(this);
    m_list->setObjectName(QStringLiteral("frameList"));
    m_list->setModel(m_filter);
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->verticalHeader()->hide();
    m_list->verticalHeader()->setDefaultSectionSize(m_list->fontMetrics().height() + 4);
    m_list->horizontalHeader()->setStretchLastSection(false);
    m_list->horizontalHeader()->setSectionResizeMode(FrameListModel::Summary, QHeaderView::Stretch);
    m_list->setWordWrap(false);
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    // Narrow columns leave the room to the summary; each at least as wide as its header (with
    // larger fonts fixed pixels cut "Protocol" and "Length"). Named devices show their name,
    // so the device column need not hold a whole IMEI.
    const auto setWidth = [this](int column, const QString &sample) {
        const QString header = m_model->headerData(column, Qt::Horizontal).toString();
        const int room = m_list->horizontalHeader()->fontMetrics().horizontalAdvance(header) + 16;
        m_list->setColumnWidth(column, std::max(m_list->fontMetrics().horizontalAdvance(sample) + 10, room));
    };
    setWidth(FrameListModel::Time, QStringLiteral("00.00. 00:00:00"));   // older days: with the date
    setWidth(FrameListModel::Direction, QStringLiteral("out"));
    setWidth(FrameListModel::Peer, QStringLiteral("127.0.0.1:50000"));
    setWidth(FrameListModel::Device, QStringLiteral("35800000"));
    setWidth(FrameListModel::Protocol, QStringLiteral("jt808"));
    setWidth(FrameListModel::Type, QStringLiteral("Location rep"));
    setWidth(FrameListModel::Length, QStringLiteral("100"));

    connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &cur) { onCurrentRowChanged(cur); });
    connect(m_model, &FrameListModel::framesInserted, this, &InspectorPane::onFramesInserted);
    // Scrolling up pauses autoscroll; scrolling back to the bottom resumes it.
    connect(m_list->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int v) {
        QScrollBar *sb = m_list->verticalScrollBar();
        if (v < sb->maximum() && !m_paused && sb->isSliderDown())
            setAutoscrollPaused(true);
    });
    connect(m_list, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu menu(this);
        menu.addAction(tr("Copy as hex"), this, [this] { QApplication::clipboard()->setText(selectedHex()); });
        menu.addAction(tr("Copy as field text"), this, [this] { QApplication::clipboard()->setText(selectedFieldText()); });
        menu.addAction(tr("Go to linked frame (request/reply)"), this, &InspectorPane::jumpToLinked);
        menu.exec(m_list->viewport()->mapToGlobal(pos));
    });

    m_pauseLabel = new QLabel(this);
    m_resumeButton = new QPushButton(tr("Resume live"), this);
    m_resumeButton->setObjectName(QStringLiteral("resumeLive"));
    connect(m_resumeButton, &QPushButton::clicked, this, [this] { setAutoscrollPaused(false); });
    m_linkButton = new QPushButton(tr("Go to reply"), this);
    m_linkButton->setObjectName(QStringLiteral("linkButton"));
    m_linkButton->setEnabled(false);
    connect(m_linkButton, &QPushButton::clicked, this, &InspectorPane::jumpToLinked);
    auto *copyHex = new QPushButton(tr("Copy hex"), this);
    connect(copyHex, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(selectedHex()); });
    auto *copyText = new QPushButton(tr("Copy fields"), this);
    connect(copyText, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(selectedFieldText()); });
    auto *listButtons = new QHBoxLayout;
    listButtons->addWidget(m_pauseLabel, 1);
    listButtons->addWidget(m_resumeButton);
    listButtons->addWidget(m_linkButton);
    listButtons->addWidget(copyHex);
    listButtons->addWidget(copyText);

    auto *listBox = new QWidget(this);
    auto *listLay = new QVBoxLayout(listBox);
    listLay->setContentsMargins(0, 0, 0, 0);
    listLay->addLayout(filters);
    listLay->addWidget(m_list, 1);
    listLay->addLayout(listButtons);

    // ---- detail + decode box ----
    m_detail = new FrameDetailView(this);
    m_decodeEdit = new QLineEdit(this);
    m_decodeEdit->setObjectName(QStringLiteral("decodeHex"));
    m_decodeEdit->setPlaceholderText(tr("Decode hex: paste a frame (78 78 …, 7e …) and press Enter"));
    m_decodeEdit->setClearButtonEnabled(true);
    m_decodeStatus = new QLabel(this);
    m_decodeStatus->setObjectName(QStringLiteral("decodeStatus"));
    m_decodeStatus->hide();
    auto *detailBox = new QWidget(this);
    auto *detailLay = new QVBoxLayout(detailBox);
    detailLay->setContentsMargins(0, 0, 0, 0);
    detailLay->addWidget(m_decodeEdit);
    detailLay->addWidget(m_decodeStatus);
    detailLay->addWidget(m_detail, 1);
    connect(m_decodeEdit, &QLineEdit::returnPressed, this, [this] { decodeHex(m_decodeEdit->text()); });

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(listBox);
    split->addWidget(detailBox);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({680, 520});
    auto *lay = new QVBoxLayout(this);
    lay->setContentsMargins(2, 2, 2, 2);
    lay->addWidget(split, 1);
    updatePauseLabel();
}

void InspectorPane::setKnownDevices(const QStringList &labels) {
    const QString cur = m_deviceFilter->currentText();
    m_deviceFilter->blockSignals(true);
    m_deviceFilter->clear();
    m_deviceFilter->addItem(QString());
    m_deviceFilter->addItems(labels);
    m_deviceFilter->setCurrentText(cur);
    m_deviceFilter->blockSignals(false);
}

bool InspectorPane::decodeHex(const QString &hex) {
    auto fail = [this](const QString &msg) {
        m_decodeStatus->setText(QStringLiteral("<span style='color:#b03000'>%1</span>").arg(msg.toHtmlEscaped()));
        m_decodeStatus->show();
        return false;
    };
    QString err;
    const auto bytes = proto::fromHex(hex, &err);
    if (!bytes)
        return fail(tr("Not hex: %1").arg(err));
    bool more = false;
    const proto::Protocol *p = proto::sniffProtocol(*bytes, &more);
    if (!p)
        return fail(tr("Not a frame of a known protocol (it starts with %1)").arg(proto::toHex(bytes->left(4), ' ')));
    m_list->selectionModel()->clearSelection();
    // A pasted frame can go either way: an ack or a command copied from an "out" row decodes
    // with warnings as a device's message. The server-to-device reading wins when only it is
    // clean, and the status line says which reading is shown.
    proto::DecodedFrame f = p->decodeFrame(*bytes);
    bool toDevice = false;
    if (!f.ok()) {
        proto::SessionOptions o;
        o.direction = proto::Direction::ToDevice;
        proto::DecodedFrame down = p->decodeFrame(*bytes, o);
        if (down.ok()) {
            f = std::move(down);
            toDevice = true;
        }
    }
    m_detail->setFrame(f);
    if (toDevice) {
        m_decodeStatus->setText(tr("Decoded as a server-to-device message (it does not decode cleanly as a device's)."));
        m_decodeStatus->show();
    } else {
        m_decodeStatus->hide();
    }
    return true;
}

void InspectorPane::onCurrentRowChanged(const QModelIndex &current) {
    if (!current.isValid()) {
        m_linkButton->setEnabled(false);
        return;
    }
    const int row = m_filter->mapToSource(current).row();
    const FrameRow &r = m_model->rowAt(row);
    m_detail->setFrame(decodeRow(r));
    if (r.replyTo) {
        m_linkButton->setText(tr("Go to request"));
        m_linkButton->setEnabled(m_model->rowOfId(r.replyTo) >= 0);
    } else {
        m_linkButton->setText(tr("Go to reply"));
        m_linkButton->setEnabled(!m_model->repliesOf(r.id).isEmpty());
    }
    // Selecting a frame pauses autoscroll so it stays in view.
    if (!m_paused && current.row() < m_filter->rowCount() - 1)
        setAutoscrollPaused(true);
}

bool InspectorPane::selectFrameId(qint64 id) {
    int row = m_model->rowOfId(id);
    if (row < 0)
        return false;
    QModelIndex idx = m_filter->mapFromSource(m_model->index(row, 0));
    if (!idx.isValid()) {  // hidden by a filter: show everything
        m_deviceFilter->setCurrentText(QString());
        m_protocolFilter->setCurrentIndex(0);
        m_directionFilter->setCurrentIndex(0);
        m_typeFilter->clear();
        m_textFilter->clear();
        m_warningsOnly->setChecked(false);
        idx = m_filter->mapFromSource(m_model->index(row, 0));
    }
    setAutoscrollPaused(true);
    m_list->setCurrentIndex(idx);
    m_list->scrollTo(idx);
    return true;
}

bool InspectorPane::jumpToLinked() {
    const QModelIndex cur = m_list->currentIndex();
    if (!cur.isValid())
        return false;
    const FrameRow &r = m_model->rowAt(m_filter->mapToSource(cur).row());
    if (r.replyTo)
        return selectFrameId(r.replyTo);
    const QList<qint64> replies = m_model->repliesOf(r.id);
    return !replies.isEmpty() && selectFrameId(replies.first());
}

void InspectorPane::setAutoscrollPaused(bool paused) {
    m_paused = paused;
    if (!paused) {
        m_unseen = 0;
        m_list->scrollToBottom();
    }
    updatePauseLabel();
}

void InspectorPane::onFramesInserted() {
    if (m_paused)
        ++m_unseen;
    else
        m_list->scrollToBottom();
    updatePauseLabel();
}

void InspectorPane::updatePauseLabel() {
    m_resumeButton->setVisible(m_paused);
    m_pauseLabel->setText(m_paused ? tr("Autoscroll paused: %n new frame batch(es) below", nullptr, m_unseen)
                                   : tr("%n frame(s) shown", nullptr, m_filter->rowCount()));
}

QString InspectorPane::selectedHex() const { return proto::toHex(m_detail->frame().bytes, ' '); }
QString InspectorPane::selectedFieldText() const { return m_detail->fieldText(); }

} // namespace td::ui
