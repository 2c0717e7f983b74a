package gdprkit

// Surface names a way into an account: the agent panel, the REST API, the
// customer portal, or one the host defines. IP rules (ipfilter), the account
// lifecycle gate (retention) and login (authn) are decided per surface.
type Surface string

// The standard surfaces. Hosts may define more; a Surface is any non-empty
// lower-case token.
const (
	SurfaceAgentPanel Surface = "agent_panel"
	SurfaceAPI        Surface = "api"
	SurfacePortal     Surface = "portal"
)
