// The citizen portal's build, served at /portal/ (CloudFront in AWS, the dev web server locally).
import { appConfig } from "@filo/shared/vite";

export default appConfig({ chunkSizeWarningLimit: 400 });
