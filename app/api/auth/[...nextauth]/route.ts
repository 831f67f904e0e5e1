export { handleAuthRequest as GET, handleAuthRequest as POST } from "@/server/auth/route";
