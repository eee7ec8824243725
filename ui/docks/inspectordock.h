// The packet inspector (Wireshark-like): a live frame list with filters (top left),
// the selected frame's field tree + hex bytes (right), a "Decode hex" box, links
// between a frame and the server's reply to it, copy as hex / as field text, and
// frames from the store ("History") besides those of this run.
#pragma once

#include "models/framelistmodel.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace td::ui {

class FrameDetailView;

class InspectorPane : public QWidget {
    Q_OBJECT
public:
    explicit InspectorPane(QWidget *parent = nullptr);

    FrameListModel *model() const { return m_model; }
    FrameFilterProxy *filter() const { return m_filter; }
    QTableView *frameList() const { return m_list; }
    FrameDetailView *detail() const { return m_detail; }

    // Decodes hex text (protocol sniffed) and shows it; false with a message shown.
    bool decodeHex(const QString &hex);
    // Selects the frame with this store id (clearing filters that hide it). False when
    // the frame is not in the list.
    bool selectFrameId(qint64 id);
    // Follows the link of the selected frame: to its reply, or back to its request.
    bool jumpToLinked();
    bool isAutoscrollPaused() const { return m_paused; }
    void setAutoscrollPaused(bool paused);
    QString selectedHex() const;
    QString selectedFieldText() const;
    void setKnownDevices(const QStringList &deviceLabels);

signals:
    // The user asked for stored frames of a time range (the owner loads them).
    void historyRequested(const QDateTime &from, const QDateTime &to);

private:
    void onCurrentRowChanged(const QModelIndex &current);
    void onFramesInserted();
    void updatePauseLabel();

    FrameListModel *m_model;
    FrameFilterProxy *m_filter;
    QTableView *m_list;
    FrameDetailView *m_detail;
    QLineEdit *m_decodeEdit;
    QLabel *m_decodeStatus;
    QComboBox *m_deviceFilter;
    QComboBox *m_protocolFilter;
    QComboBox *m_directionFilter;
    QLineEdit *m_typeFilter;
    QLineEdit *m_textFilter;
    QCheckBox *m_warningsOnly;
    QComboBox *m_historyRange;
    QPushButton *m_linkButton;
    QPushButton *m_resumeButton;
    QLabel *m_pauseLabel;
    bool m_paused = false;
    int m_unseen = 0;
};

} // namespace td::ui
