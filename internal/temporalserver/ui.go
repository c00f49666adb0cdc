package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/temporalio/ui-server/v2/server/api"
	"github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/cors"
	"github.com/temporalio/ui-server/v2/server/csrf"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/route"
	"github.com/temporalio/ui-server/v2/ui"
)

// The Web UI comes from github.com/temporalio/ui-server/v2, pinned at v2.55.0:
// the last release whose go.mod accepts Go 1.26.8 (v2.56.0 wants 1.26.9), and
// one that needs no newer go.temporal.io/api, gRPC or x/net than the server
// already uses. Its assets are embedded (about 6 MB).
//
// uiHandler assembles the same echo application as ui-server's
// server.NewServer, route for route and middleware for middleware, instead of
// calling it, because NewServer panics on a bad configuration and its Start
// calls Logger.Fatal — os.Exit — when it cannot listen. Inside Throughgate that
// would take the API and worker down with it. Assembling the handler here lets
// the listener be opened (and its errors reported) by Start, and lets Stop shut
// it down. Re-check this against server/server.go when upgrading ui-server.
func uiHandler(cfg *uiconfig.Config) (http.Handler, *uiconfig.ConfigProviderWithRefresh, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	provider, err := uiconfig.NewConfigProviderWithRefresh(cfg)
	if err != nil {
		return nil, nil, err
	}
	apiMiddleware := []api.Middleware{
		headers.WithForwardHeaders([]string{auth.AuthorizationExtrasHeader, "Caller-Type"}),
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(cors.CORSMiddleware(cors.CORSConfig{
		AllowHeaders: []string{
			echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, auth.AuthorizationExtrasHeader,
			"Caller-Type",
		},
		AllowCredentials: true,
		ConfigProvider:   provider,
	}))
	e.Use(middleware.Secure())
	cookieSecure := !cfg.CORS.CookieInsecure
	e.Use(csrf.EnsureTokenCookie(cookieSecure))
	e.Use(middleware.CSRFWithConfig(csrf.MiddlewareConfig(provider, cookieSecure)))

	e.Pre(route.PublicPath(cfg.PublicPath))
	route.SetHealthRoute(e)
	if err := route.SetAPIRoutes(e, provider, apiMiddleware); err != nil {
		provider.Close()
		return nil, nil, err
	}
	route.SetAuthRoutes(e, provider)

	assets, err := ui.Assets()
	if err == nil {
		assets, err = fs.Sub(assets, "local")
	}
	if err == nil {
		err = route.SetUIRoutes(e, cfg.PublicPath, assets, provider)
	}
	if err != nil {
		provider.Close()
		return nil, nil, fmt.Errorf("temporal web UI assets: %w", err)
	}
	route.SetRenderRoute(e, "/")
	return e, provider, nil
}

type uiServer struct {
	srv      *http.Server
	provider *uiconfig.ConfigProviderWithRefresh
	served   chan error
}

// startUI serves the Web UI on ln, which Start opened before the server so
// that a busy port is reported before anything else is started.
func startUI(ln net.Listener, frontendHostPort, namespace string) (*uiServer, error) {
	h, provider, err := uiHandler(&uiconfig.Config{
		TemporalGRPCAddress: frontendHostPort,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		// Plain HTTP on loopback: a Secure cookie would never be sent back,
		// and every write from the UI would fail the CSRF check.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
		// No calls from the UI or the browser to temporal.io: installs may sit
		// on networks where outbound traffic is unwelcome.
		DisableNewsFetch:   true,
		NotifyOnNewVersion: false,
	})
	if err != nil {
		return nil, err
	}
	u := &uiServer{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
		},
		provider: provider,
		served:   make(chan error, 1),
	}
	go func() { u.served <- u.srv.Serve(ln) }()
	return u, nil
}

func (u *uiServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := u.srv.Shutdown(ctx)
	u.provider.Close()
	if serveErr := <-u.served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
