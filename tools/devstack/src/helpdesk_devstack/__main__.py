from helpdesk_devstack.cli import main

raise SystemExit(main())
