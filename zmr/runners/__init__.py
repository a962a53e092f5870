"""Ways of running a job to completion: in this process (``inline``) or on an embedded
local cluster of real coordinator and worker processes (``local``)."""
