// The staff console's build, served at /console/ (CloudFront in AWS, the dev web server locally).
import { appConfig } from "@filo/shared/vite";

export default appConfig({ chunkSizeWarningLimit: 800 });
