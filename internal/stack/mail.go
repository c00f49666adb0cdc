package stack

import (
	"log/slog"

	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/mail"
)

// NewSender builds the SMTP sender from the settings.
func NewSender(cfg config.Config, logger *slog.Logger) (*mail.Sender, error) {
	roots, err := loadCA("SMTP_TLS_CA", cfg.SMTPTLSCA)
	if err != nil {
		return nil, err
	}
	return mail.NewSender(mail.Config{RootCAs: roots,
		Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLSMode: cfg.SMTPTLS, AllowInsecure: cfg.SMTPAllowInsecure,
		Auth: cfg.SMTPAuth, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, ReplyTo: cfg.SMTPReplyTo, RatePerMinute: cfg.SMTPRate,
	}, logger)
}
