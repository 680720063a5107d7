#pragma once
// One GET to the hub that follows redirects itself (the resolve URL sends big files on to a CDN):
// the Range header goes along on every hop, the token only to the hub's own host, and an https
// download is never redirected to plain http.

#include <QByteArray>
#include <QNetworkReply>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <optional>

namespace gd::ui {

class HubClient;

class HubGet : public QObject {
    Q_OBJECT
public:
    HubGet(HubClient* client, const QUrl& url, std::optional<quint64> rangeStart, QObject* parent = nullptr);
    ~HubGet() override;

    void start();
    // Stops without emitting anything more (pause, cancel, or giving up on a bad response).
    void abort();

    // Of the final (non-redirect) response.
    int httpStatus() const { return status_; }
    QByteArray header(const QByteArray& name) const;
    QUrl url() const { return url_; }
    QNetworkReply::NetworkError error() const { return error_; }
    QByteArray readAll();

signals:
    // The final response's status line and headers are in; body bytes follow via readyRead.
    void responseStarted(int httpStatus);
    void readyRead();
    // Done, successfully or not: see error() and httpStatus(). A redirect loop or a redirect from
    // https to http ends with TooManyRedirectsError / InsecureRedirectError.
    void finished();

private:
    void send();
    void onMetaData();
    void onReadyRead();
    void onFinished();
    bool isRedirect() const;
    void announce();
    void detach();

    HubClient* client_;
    QUrl url_;
    std::optional<quint64> rangeStart_;
    QPointer<QNetworkReply> reply_;
    int status_ = 0;
    int hops_ = 0;
    bool announced_ = false;
    QNetworkReply::NetworkError error_ = QNetworkReply::NoError;
};

}  // namespace gd::ui
