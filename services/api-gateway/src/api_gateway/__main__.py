from api_gateway.entrypoints.cli import main

raise SystemExit(main())
