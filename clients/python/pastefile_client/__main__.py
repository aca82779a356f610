from pastefile_client.cli import main

main()
